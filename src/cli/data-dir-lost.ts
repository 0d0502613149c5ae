// Said by every process that stops on it; apart, so that saying it loads nothing else.

/** What a process says once its embedded data directory is lost under it, after why. */
export const AFTER_DATA_DIR_LOST =
  'Stopping: rollouts in flight stop after their steps and cannot be resumed from that directory; look at their hosts before deploying again.';
