#!/usr/bin/env node
import { hostname } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { runCli } from './cli.js';
import { scrubProcessOutput } from './adapters/log/redact.js';
import { guardProcess } from './cli/process-guard.js';

scrubProcessOutput();

const interactive = process.stdout.isTTY === true && process.stdin.isTTY === true;
const guard = guardProcess(process, (line) => process.stderr.write(line));

// Whoever read the output went away (`baton history | head -3`): the rest of it is dropped, and
// the command still finishes what it started (a deploy it runs is not cut short by its reader).
let stdoutGone = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  stdoutGone = true;
});

const status = await runCli(process.argv.slice(2), {
  stdout: (text) => {
    if (!stdoutGone) process.stdout.write(text);
  },
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  now: () => Date.now(),
  interactive,
  worker: `${hostname()}:${process.pid}`,
  ask: async (question) => {
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await prompt.question(question);
    } finally {
      prompt.close();
    }
  },
  lines: (prompt) => {
    const reader = createInterface({ input: process.stdin, output: process.stdout, prompt });
    if (interactive) reader.prompt();
    reader.on('line', () => {
      if (interactive) setImmediate(() => reader.prompt());
    });
    return {
      lines: reader,
      close: () => {
        reader.close();
        process.stdin.destroy();
      },
    };
  },
  onInterrupt: (handler) => {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    const unguard = guard.onStop(handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      unguard();
    };
  },
});
process.exitCode = guard.crashed() ? 1 : status;
