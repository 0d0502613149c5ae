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
