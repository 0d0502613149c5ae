export type * from './model.js';
export { validatePlaybook, type ValidationResult, type PlaybookContext } from './validate.js';
export type { SshConfigAnswer, SshConfigView } from './reach.js';
export { formatProblem, formatPath, type Problem, type PathSegment } from './problems.js';
export { PlaybookSchema, DEFAULT_VERSION_PATTERN, FAILURE_POLICIES } from './schema.js';
export { playbookJsonSchema } from './json-schema.js';
export { playbookWarnings } from './warnings.js';
export {
  parsePlaybookText,
  formatSourceProblem,
  formatSourceWarning,
  type SourceProblem,
  type TextResult,
} from './parse-text.js';
export { unusablePlaybookMessage, type UnusablePlaybook } from './unusable.js';
export {
  readInventory,
  withInventories,
  MAX_INVENTORY_HOSTS,
  type InventoryHosts,
} from './inventory.js';
