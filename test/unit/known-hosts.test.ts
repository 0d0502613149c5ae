import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  keyTypeOf,
  knownKeyTypes,
  lookupName,
  parseKnownHosts,
  verifyHostKey,
} from '../../src/adapters/ssh/known-hosts.js';

function blob(type: string, body: string): Buffer {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, Buffer.from(body)]);
}

const key = blob('ssh-ed25519', 'A');
const other = blob('ssh-ed25519', 'B');
const b64 = (buffer: Buffer) => buffer.toString('base64');

function hashed(name: string): string {
  const salt = Buffer.from('0123456789abcdefghij');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('names hosts the way ssh looks them up', () => {
    expect(lookupName('web-01', 22)).toBe('web-01');
    expect(lookupName('127.0.0.11', 2222)).toBe('[127.0.0.11]:2222');
  });

  it.each<[string, string, string]>([
    ['a plain name', `web-01 ssh-ed25519 ${b64(key)}`, 'trusted'],
    ['one of several names', `web-00,web-01,10.0.0.1 ssh-ed25519 ${b64(key)}`, 'trusted'],
    ['a bracketed name with a port', `[web-01]:2222 ssh-ed25519 ${b64(key)}`, 'unknown'],
    ['a hashed name', `${hashed('web-01')} ssh-ed25519 ${b64(key)} comment`, 'trusted'],
    ['a wildcard', `web-* ssh-ed25519 ${b64(key)}`, 'trusted'],
    ['a wildcard with a negation', `web-*,!web-01 ssh-ed25519 ${b64(key)}`, 'unknown'],
    ['another key for the name', `web-01 ssh-ed25519 ${b64(other)}`, 'mismatch'],
    [
      'the key revoked',
      `web-01 ssh-ed25519 ${b64(key)}\n@revoked * ssh-ed25519 ${b64(key)}`,
      'revoked',
    ],
    ['only comments', '# web-01 ssh-ed25519 x\n\n', 'unknown'],
    ['a dot that is not a wildcard', `webX01 ssh-ed25519 ${b64(key)}`, 'unknown'],
  ])('%s', (_, text, verdict) => {
    expect(verifyHostKey(parseKnownHosts(text), 'web-01', key)).toBe(verdict);
  });

  it('matches a bracketed name literally', () => {
    const lines = parseKnownHosts(`[127.0.0.11]:2222 ssh-ed25519 ${b64(key)}`);
    expect(verifyHostKey(lines, '[127.0.0.11]:2222', key)).toBe('trusted');
    expect(verifyHostKey(lines, '[127.0.0.11]:22', key)).toBe('unknown');
    expect(verifyHostKey(lines, '127.0.0.11', key)).toBe('unknown');
  });

  it('knows which key types a host has, to ask for one of them', () => {
    const lines = parseKnownHosts(
      `web-01 ssh-rsa AAAA\nweb-01 ssh-ed25519 ${b64(key)}\nweb-02 ecdsa-sha2-nistp256 AAAA`,
    );
    expect(knownKeyTypes(lines, 'web-01')).toEqual(['ssh-rsa', 'ssh-ed25519']);
  });

  it("computes OpenSSH's fingerprint form and reads the key type from the blob", () => {
    expect(fingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(keyTypeOf(key)).toBe('ssh-ed25519');
  });
});
