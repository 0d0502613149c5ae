export type * from './model.js';
export {
  validatePlaybook,
  formatProblem,
  formatPath,
  type Problem,
  type PathSegment,
  type ValidationResult,
} from './validate.js';
export { PlaybookSchema, DEFAULT_VERSION_PATTERN, FAILURE_POLICIES } from './schema.js';
export { playbookJsonSchema } from './json-schema.js';
export {
  parsePlaybookText,
  formatSourceProblem,
  type SourceProblem,
  type TextResult,
} from './parse-text.js';
