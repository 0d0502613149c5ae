import { shellQuote } from './shell.js';

export const PLACEHOLDERS = [
  'version',
  'previous_version',
  'host',
  'service',
  'environment',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateValues = Record<Placeholder, string>;

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const PLACEHOLDER_HERE = new RegExp(PLACEHOLDER.source, 'y');

/** The placeholder that starts exactly at `index`, if one does. */
export function placeholderAt(
  template: string,
  index: number,
): { name: string; length: number } | undefined {
  PLACEHOLDER_HERE.lastIndex = index;
  const match = PLACEHOLDER_HERE.exec(template);
  return match === null ? undefined : { name: match[1] ?? '', length: match[0].length };
}

/** Names used in `{{...}}` that baton does not know, so a typo is caught before a rollout. */
export function unknownPlaceholders(template: string): string[] {
  const unknown: string[] = [];
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (name !== undefined && !(PLACEHOLDERS as readonly string[]).includes(name))
      unknown.push(name);
  }
  return unknown;
}

export type Quoting = 'shell' | 'url' | 'none';

/** Where the authority (`host:port`) of a URL template is, as offsets into the template. */
function authorityOf(template: string): { start: number; end: number } | undefined {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(template);
  if (scheme === null) return undefined;
  const start = scheme[0].length;
  const rest = template.slice(start).search(/[/?#]/);
  return { start, end: rest === -1 ? template.length : start + rest };
}

/**
 * A value in a URL: percent-encoded, except an IPv6 address where the host goes, which a URL
 * writes in brackets (`http://[::1]:8080/`) and which encoding would make a name no resolver knows.
 */
function urlValue(value: string, inAuthority: boolean, bracketed: boolean): string {
  if (inAuthority && value.includes(':')) return bracketed ? value : `[${value}]`;
  return encodeURIComponent(value);
}

export function renderTemplate(template: string, values: TemplateValues, quoting: Quoting): string {
  const authority = quoting === 'url' ? authorityOf(template) : undefined;
  return template.replace(PLACEHOLDER, (whole, name: string, offset: number) => {
    if (!Object.hasOwn(values, name)) return whole;
    const value = values[name as Placeholder];
    if (quoting === 'shell') return shellQuote(value);
    if (quoting === 'none') return value;
    const inAuthority =
      authority !== undefined && offset >= authority.start && offset < authority.end;
    const bracketed = template[offset - 1] === '[' && template[offset + whole.length] === ']';
    return urlValue(value, inAuthority, bracketed);
  });
}
