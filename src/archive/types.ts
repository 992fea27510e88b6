/** What an archive check found; `offset` is in the decompressed stream unless `raw` says otherwise. */
export interface ArchiveProblem {
  /** Stable identifier, e.g. `tar-header-checksum`, `sha256-mismatch`. */
  code: string;
  /** One sentence naming what is wrong. */
  message: string;
  offset?: number;
}

export interface ArchiveCheckResult {
  ok: boolean;
  /** sha256 of the raw bytes read, lowercase hex. */
  sha256: string;
  /** Raw bytes read. */
  bytes: number;
  /** Decompressed bytes handed to the content check. */
  contentBytes: number;
  problems: ArchiveProblem[];
}

/** A streaming content check: fed decompressed chunks in order, then ended once. */
export interface ContentChecker {
  push(chunk: Buffer): void;
  end(): void;
  readonly problems: ArchiveProblem[];
}
