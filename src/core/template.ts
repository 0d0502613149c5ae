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

const ENCODE: Record<Quoting, (value: string) => string> = {
  shell: shellQuote,
  url: encodeURIComponent,
  none: (value) => value,
};

export function renderTemplate(template: string, values: TemplateValues, quoting: Quoting): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(values, name) ? ENCODE[quoting](values[name as Placeholder]) : whole,
  );
}
