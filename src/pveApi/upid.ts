/**
 * UPID = Unique Process ID of a PVE task:
 * `UPID:<node>:<pid 8 hex>:<pstart 8-9 hex>:<starttime 8 hex>:<type>:<id>:<user>:`
 * (note the trailing colon; `id` may be empty; `user` may be a token id).
 * Same grammar as pve-common's upid_decode; parsed here so that a UPID from an
 * answer is checked before it is put back into a request path.
 */

/** The decoded fields of a UPID. */
export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  /** Unix seconds, node clock. */
  starttime: number;
  type: string;
  /** vmid for single-guest vzdump jobs (PVE >= 5.3-8), often empty. */
  id: string;
  /** `user@realm` or `user@realm!token`. */
  user: string;
}

const UPID_RE =
  /^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

/** Decodes a UPID, or returns undefined when the string is not one. */
export function parseUpid(text: string): Upid | undefined {
  const m = UPID_RE.exec(text);
  if (!m) return undefined;
  const [, node, pid, pstart, starttime, type, id, user] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    node,
    pid: Number.parseInt(pid, 16),
    pstart: Number.parseInt(pstart, 16),
    starttime: Number.parseInt(starttime, 16),
    type,
    id,
    user,
  };
}

/** True when the text is a well-formed UPID. */
export function isUpid(text: string): boolean {
  return UPID_RE.test(text);
}
