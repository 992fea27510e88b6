/**
 * The narrow view of a remote file tree that NAS-side logic (rotation, lock,
 * verify, manifest) works through. The FTP session implements it over
 * basic-ftp; tests also implement it in memory for property tests. Paths are
 * absolute POSIX paths on the server.
 */

export interface RemoteEntry {
  name: string;
  type: 'file' | 'dir';
  /** Bytes; 0 for directories. */
  size: number;
}

export interface RemoteFs {
  /** Entries of a directory (no `.`/`..`); `undefined` when it does not exist. */
  list(dir: string): Promise<RemoteEntry[] | undefined>;
  /** Size of a file; `undefined` when it does not exist. */
  size(path: string): Promise<number | undefined>;
  /**
   * What is at `path`: a directory, a file, or nothing. Cheaper than a listing
   * when only that matters (FTP: a CWD, then a SIZE only when it is no directory).
   */
  exists(path: string): Promise<'dir' | 'file' | undefined>;
  /** Create a directory and its parents; no error when it exists. */
  mkdirp(dir: string): Promise<void>;
  /**
   * Create one directory whose parent exists, atomically: `true` when this call
   * created it, `false` when something (a directory or a file) already existed
   * there; any other failure throws (FTP MKD fails on an existing
   * directory on every server we support: the node lock's exclusive create).
   */
  mkdirExclusive(dir: string): Promise<boolean>;
  /** Rename a file or directory; fails when `to` is a non-empty directory. */
  rename(from: string, to: string): Promise<void>;
  /** Remove a directory recursively; no error when it does not exist. */
  removeDir(dir: string): Promise<void>;
  /** Remove a file; no error when it does not exist. */
  removeFile(path: string): Promise<void>;
  /** Read a small file (manifest, lock, journal) as UTF-8; `undefined` when missing. */
  readText(path: string): Promise<string | undefined>;
  /**
   * Write a small file as UTF-8, replacing it: written aside under a temp name, then renamed
   * over, so a reader never sees half of it. `tempPath` puts the temp name elsewhere than
   * beside the file (a directory that healing lists; it must be on the same NAS volume).
   */
  writeText(path: string, text: string, o?: { tempPath?: string }): Promise<void>;
}

/**
 * The NAS's own clock, read through file times: the node lock's lease is
 * judged by times the NAS itself stamped, never by comparing two hosts' clocks.
 */
export interface RemoteClock {
  /**
   * Last modification time of a file as the NAS reports it (FTP MDTM, which
   * vsftpd, pure-ftpd, proftpd and ftp-srv all answer; seconds or better);
   * `undefined` when it does not exist. Ask only about files: what servers
   * answer for a directory differs (vsftpd refuses, ftp-srv answers).
   */
  modifiedAt(path: string): Promise<Date | undefined>;
}
