import { z } from 'zod';
import { PlaybookSchema } from './schema.js';

/** The JSON Schema editors use to check and complete playbooks (`baton schema`). */
export function playbookJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PlaybookSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
  });
}
