export { parseCommand, NAME_PATTERN, MAX_SCHEDULE_MS } from './parse.js';
export { formatCommand } from './format.js';
export { resolveTime, isValidTimeZone } from './time.js';
export { USAGE, ALL_USAGE, VERBS, RESERVED_SERVICE_NAMES, helpText } from './usage.js';
export type * from './types.js';
export { checkFilterOptions, FILTER_FLAGS } from './filters.js';
