// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

/** Everything the pure core must not reach for: I/O, the environment and the wall clock. */
const impureModules = [
  { group: ['node:*'], message: 'src/core is pure: do I/O in an adapter and pass data in.' },
  {
    group: ['fs', 'fs/*', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto'],
    message: 'src/core is pure: no Node built-ins.',
  },
  {
    group: ['ioredis', 'bullmq', 'node-ssh', 'ssh2', '@slack/*', 'pino'],
    message: 'src/core is pure: talk to the outside through a port in src/app.',
  },
  {
    group: [
      '**/adapters/**',
      '**/app/**',
      '**/config/**',
      '**/cli',
      '**/cli.js',
      '**/main',
      '**/main.js',
    ],
    message: 'src/core depends on nothing outside src/core.',
  },
];

/** The use cases talk to the outside only through their ports; adapters are wired in main. */
const outsideTheApp = [
  {
    group: ['node:*'],
    message: 'src/app reaches the outside through its ports (src/app/*-ports.ts).',
  },
  {
    group: ['ioredis', 'bullmq', 'node-ssh', 'ssh2', '@slack/*', 'pino', '@electric-sql/*'],
    message: 'src/app talks to the outside through a port; the adapter goes in src/adapters.',
  },
  {
    group: [
      '**/adapters/**',
      '**/config/**',
      '**/local/**',
      '**/cli',
      '**/cli/**',
      '**/cli.js',
      '**/main',
      '**/main.js',
    ],
    message: 'src/app imports only src/core and its own ports.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'coverage/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  importX.flatConfigs.typescript,
  {
    languageOptions: { globals: { ...globals.node } },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Control characters are matched on purpose: to refuse them in user input.
      'no-control-regex': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/app/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: outsideTheApp }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: impureModules }],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'src/core is pure: pass configuration in as data.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process']",
          message: 'src/core is pure: no process.env or process.*.',
        },
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'src/core is pure: take `now` as an argument.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'src/core is pure: take `now` as an argument.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'src/core is deterministic: pass randomness in.',
        },
      ],
    },
  },
);
