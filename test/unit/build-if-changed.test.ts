import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLE_OUTPUTS, buildIfChanged, STAMP } from '../../scripts/build-if-changed.mjs';

let root: string;
let builds: number;
let failNext: boolean;

const write = (path: string, text: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};

/** Stands in for the build: the bundle's files and their list, and the database template. */
const build = () => {
  builds += 1;
  write('dist/src/main.js', 'built');
  write('dist/src/chunks/other.js', 'built');
  write(BUNDLE_OUTPUTS, JSON.stringify(['dist/src/main.js', 'dist/src/chunks/other.js']));
  write('dist/embedded-db-template.tar.gz', 'built');
  write('dist/embedded-db-template.json', 'built');
  if (failNext) {
    failNext = false;
    return 2;
  }
  return 0;
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'baton-build-'));
  builds = 0;
  failNext = false;
  write('tsconfig.json', '{}');
  write('package.json', '{}');
  write('package-lock.json', '{}');
  write('src/main.ts', 'export const a = 1;');
  write('src/other.ts', 'export const b = 1;');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the build npm start runs', () => {
  it('builds the first time, and not again while nothing changed', () => {
    expect(buildIfChanged(root, build)).toBe(0);
    expect(buildIfChanged(root, build)).toBe(0);
    expect(builds).toBe(1);
  });

  it.each([
    ['a source changed', () => write('src/main.ts', 'export const a = 2;')],
    ['a source was added', () => write('src/third.ts', 'export const c = 3;')],
    ['a setting changed', () => write('tsconfig.json', '{"compilerOptions":{}}')],
    ['the lock file changed', () => write('package-lock.json', '{"v":2}')],
    ['another bundler was installed', () => write('node_modules/esbuild/package.json', '{}')],
    [
      'another PGlite was installed',
      () => write('node_modules/@electric-sql/pglite/package.json', '{}'),
    ],
    ['a build script changed', () => write('scripts/embedded-db-template.ts', '// changed')],
    ['the bundler script changed', () => write('scripts/bundle.mjs', '// changed')],
    ['an output was removed', () => unlinkSync(join(root, 'dist/src/chunks/other.js'))],
    ['the list of outputs was removed', () => unlinkSync(join(root, BUNDLE_OUTPUTS))],
    [
      'the database template was removed',
      () => unlinkSync(join(root, 'dist/embedded-db-template.tar.gz')),
    ],
    ['the record was removed with dist', () => rmSync(join(root, 'dist'), { recursive: true })],
  ])('builds again when %s', (_, change) => {
    buildIfChanged(root, build);
    change();
    buildIfChanged(root, build);
    expect(builds).toBe(2);
  });

  it('builds again after another build wrote outputs the record does not speak for', () => {
    buildIfChanged(root, build);
    // Say `npm run build` of other sources, since reverted: its output is newer than the record.
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'dist/src/main.js'), later, later);
    buildIfChanged(root, build);
    expect(builds).toBe(2);
  });

  it('records no success for a failed build, so the next start builds again', () => {
    failNext = true;
    expect(buildIfChanged(root, build)).toBe(2);
    expect(existsSync(join(root, STAMP))).toBe(false);
    expect(buildIfChanged(root, build)).toBe(0);
    expect(builds).toBe(2);
  });
});
