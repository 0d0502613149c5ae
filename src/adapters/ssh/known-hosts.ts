import { createHash, createHmac } from 'node:crypto';

/**
 * OpenSSH known_hosts, read the way ssh reads it: plain and hashed (`|1|salt|hash`) names,
 * `[host]:port` for other ports, wildcards and negations, `@revoked` keys.
 */
export interface KnownHostLine {
  marker?: '@revoked' | '@cert-authority';
  patterns: string[];
  keyType: string;
  keyBase64: string;
}

export function parseKnownHosts(text: string): KnownHostLine[] {
  const lines: KnownHostLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]?.startsWith('@')
      ? (fields.shift() as KnownHostLine['marker'])
      : undefined;
    const [patterns, keyType, keyBase64] = fields;
    if (patterns === undefined || keyType === undefined || keyBase64 === undefined) continue;
    lines.push({
      ...(marker === undefined ? {} : { marker }),
      patterns: patterns.split(','),
      keyType,
      keyBase64,
    });
  }
  return lines;
}

/** The name ssh looks up: `host` on port 22, `[host]:port` otherwise. */
export function lookupName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function matchesPattern(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (salt === undefined || hash === undefined) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(name);
}

function lineMatches(line: KnownHostLine, name: string): boolean {
  const negated = line.patterns.filter((pattern) => pattern.startsWith('!'));
  if (negated.some((pattern) => matchesPattern(pattern.slice(1), name))) return false;
  return line.patterns.some((pattern) => !pattern.startsWith('!') && matchesPattern(pattern, name));
}

export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + length).toString('ascii');
}

export type HostKeyVerdict = 'trusted' | 'unknown' | 'mismatch' | 'revoked';

export function verifyHostKey(
  lines: KnownHostLine[],
  name: string,
  keyBlob: Buffer,
): HostKeyVerdict {
  const presented = keyBlob.toString('base64');
  const revoked = lines.some((line) => line.marker === '@revoked' && line.keyBase64 === presented);
  if (revoked) return 'revoked';
  const known = lines.filter((line) => line.marker === undefined && lineMatches(line, name));
  if (known.some((line) => line.keyBase64 === presented)) return 'trusted';
  return known.length === 0 ? 'unknown' : 'mismatch';
}

/** Key types this host is known by, so the handshake asks for one we can check. */
export function knownKeyTypes(lines: KnownHostLine[], name: string): string[] {
  return [
    ...new Set(
      lines
        .filter((line) => line.marker === undefined && lineMatches(line, name))
        .map((line) => line.keyType),
    ),
  ];
}
