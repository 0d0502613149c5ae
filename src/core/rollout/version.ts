import type { Playbook } from '../playbook/model.js';

/**
 * What any version is made of, whatever a playbook's pattern allows: a version reaches shell
 * commands, URLs and chat messages, so it holds no shell metacharacter, quote, space or markup,
 * and cannot start with `-` (read as an option) or `.` (`..` as a path).
 */
const VERSION_CHARACTERS = /^[A-Za-z0-9][A-Za-z0-9._+:~@-]*$/;
export const VERSION_CHARACTERS_TEXT =
  'letters, digits and . _ + : ~ @ -, starting with a letter or digit';

/** A playbook's version_pattern as it is applied: to the whole version, alternation or not. */
export function versionRegExp(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'u');
}

/** Why `version` may not be used with this playbook, or undefined when it may. */
export function versionProblem(
  playbook: Pick<Playbook, 'service' | 'versionPattern'>,
  version: string,
  label = 'version',
): string | undefined {
  if (!versionRegExp(playbook.versionPattern).test(version))
    return `The ${label} '${version}' does not match ${playbook.service}'s version_pattern ${playbook.versionPattern}.`;
  if (!VERSION_CHARACTERS.test(version))
    return `The ${label} ${JSON.stringify(version)} is refused whatever version_pattern allows: a version is made of ${VERSION_CHARACTERS_TEXT}.`;
  return undefined;
}
