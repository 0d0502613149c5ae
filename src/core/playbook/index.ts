export type * from './model.js';
export { validatePlaybook, type ValidationResult } from './validate.js';
export { formatProblem, formatPath, type Problem, type PathSegment } from './problems.js';
export { PlaybookSchema, DEFAULT_VERSION_PATTERN, FAILURE_POLICIES } from './schema.js';
export { playbookJsonSchema } from './json-schema.js';
export {
  parsePlaybookText,
  formatSourceProblem,
  type SourceProblem,
  type TextResult,
} from './parse-text.js';
export { unusablePlaybookMessage, type UnusablePlaybook } from './unusable.js';
