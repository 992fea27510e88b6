/**
 * The shape of a `doctor` report: one line per check, grouped per cluster
 * and node (and the NAS), each ok, warn or fail with the fix in one sentence.
 */

export const CHECK_STATUSES = ['ok', 'warn', 'fail'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** One check's verdict. */
export interface CheckLine {
  /** Stable id of the check (`api`, `version`, `privilege.vms`, `storage.prune`, …). */
  check: string;
  status: CheckStatus;
  /** What was found, in one line. */
  message: string;
  /** What to do about a warn or fail, in one sentence. */
  fix?: string;
}

/** The checks of one node (or of the cluster or NAS as a whole: node ''). */
export interface CheckGroup {
  /** `cluster` or `nas`. */
  kind: 'cluster' | 'nas';
  /** Cluster name, or `host:port` of the NAS. */
  name: string;
  /** Node name; '' for checks of the cluster or NAS as a whole. */
  node: string;
  lines: CheckLine[];
}

export interface DoctorReport {
  version: 1;
  generatedAt: string;
  groups: CheckGroup[];
  counts: Record<CheckStatus, number>;
  exitCode: number;
}

export const ok = (check: string, message: string): CheckLine => ({
  check,
  status: 'ok',
  message,
});
export const warn = (check: string, message: string, fix?: string): CheckLine => ({
  check,
  status: 'warn',
  message,
  ...(fix !== undefined ? { fix } : {}),
});
export const fail = (check: string, message: string, fix: string): CheckLine => ({
  check,
  status: 'fail',
  message,
  fix,
});

/** `warn  cannot tell on PVE 3.4: …`: a version that cannot answer is never guessed at. */
export const cannotTell = (check: string, pveVersion: string, what: string): CheckLine =>
  warn(check, `cannot tell on PVE ${pveVersion}: ${what}`);
