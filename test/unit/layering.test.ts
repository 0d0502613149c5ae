import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The lint rules that keep src/core pure are part of the design: check they really bite. */
const eslint = new ESLint();

async function problemsIn(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((message) => message.message);
}

describe('src/core stays pure', () => {
  it.each([
    [
      "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
      'do I/O in an adapter',
    ],
    [
      "import { Redis } from 'ioredis';\nexport const r = Redis;\n",
      'talk to the outside through a port',
    ],
    [
      "import { Queue } from 'bullmq';\nexport const q = Queue;\n",
      'talk to the outside through a port',
    ],
    [
      "import { NodeSSH } from 'node-ssh';\nexport const s = NodeSSH;\n",
      'talk to the outside through a port',
    ],
    [
      "import { App } from '@slack/bolt';\nexport const a = App;\n",
      'talk to the outside through a port',
    ],
    [
      "import { loadConfig } from '../config/env.js';\nexport const c = loadConfig;\n",
      'depends on nothing outside src/core',
    ],
    ['export const e = process.env.HOME;\n', 'no process.env'],
    ['export const t = Date.now();\n', 'take `now` as an argument'],
    ['export const d = new Date();\n', 'take `now` as an argument'],
    ['export const r = Math.random();\n', 'pass randomness in'],
  ])('refuses %j', async (code, expected) => {
    const messages = await problemsIn('src/core/example.ts', code);
    expect(messages.join('\n')).toContain(expected);
  });

  it('allows a date built from a given instant, and the same code outside the core', async () => {
    expect(
      await problemsIn(
        'src/core/example.ts',
        'export const d = (now: number): Date => new Date(now);\n',
      ),
    ).toEqual([]);
    expect(await problemsIn('src/adapters/example.ts', 'export const t = Date.now();\n')).toEqual(
      [],
    );
  });
});

describe('src/app talks to the outside only through its ports', () => {
  it.each([
    [
      "import { RedisLockStore } from '../adapters/store/redis-lock-store.js';\nexport const r = RedisLockStore;\n",
      'src/app imports only src/core and its own ports',
    ],
    [
      "import { startWorker } from '../main.js';\nexport const w = startWorker;\n",
      'src/app imports only src/core and its own ports',
    ],
    [
      "import { loadConfig } from '../config/env.js';\nexport const c = loadConfig;\n",
      'src/app imports only src/core and its own ports',
    ],
    [
      "import { Queue } from 'bullmq';\nexport const q = Queue;\n",
      'the adapter goes in src/adapters',
    ],
    [
      "import { readFile } from 'node:fs/promises';\nexport const f = readFile;\n",
      'src/app reaches the outside through its ports',
    ],
  ])('refuses %j', async (code, expected) => {
    const messages = await problemsIn('src/app/use-cases/example.ts', code);
    expect(messages.join('\n')).toContain(expected);
  });

  it('allows the core and its own ports', async () => {
    expect(
      await problemsIn(
        'src/app/use-cases/example.ts',
        "import { planRollout } from '../../core/rollout/index.js';\nimport type { LockStore } from '../store-ports.js';\nexport const p = planRollout;\nexport type L = LockStore;\n",
      ),
    ).toEqual([]);
  });

  it('holds for every file of src/app today', async () => {
    const results = await eslint.lintFiles(['src/app/**/*.ts']);
    const broken = results.flatMap((result) =>
      result.messages
        .filter((message) => message.ruleId === 'no-restricted-imports')
        .map((message) => `${result.filePath}: ${message.message}`),
    );
    expect(broken).toEqual([]);
  });
});
