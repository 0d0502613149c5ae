// The part of the package's API baton uses; it ships no types.
declare module 'fs-native-extensions' {
  /**
   * An exclusive lock on the whole file open at `fd`, or false if another open file holds one.
   * Linux: an open-file-description lock (fcntl F_OFD_SETLK), so two opens in one process
   * exclude each other too, and closing the descriptor releases it.
   */
  export function tryLock(fd: number): boolean;
}
