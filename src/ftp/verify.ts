/**
 * Did the node's upload arrive whole? Each expected file (archive, log) must
 * be in `transfer/` under its final name with the size the PVE API reported.
 * A missing or wrong-size file is a result, not an exception: the caller
 * decides (a missing archive fails the guest, a missing log is a warning).
 * Connection failures still throw (NasError): then nothing is known.
 */
import { joinRemote } from './layout.js';
import type { RemoteFs } from './remoteFs.js';

/** The outcome for one expected file. */
export interface VerifyResult {
  name: string;
  ok: boolean;
  expectedSize?: number;
  actualSize?: number;
  /** Why not ok, in words for the report. */
  problem?: string;
}

/**
 * Check `expected` files in `dir`, in order. A `size` of undefined only
 * checks that the file exists. Names are checked (one path segment, no
 * control characters) before they are sent to the server.
 */
export async function verifyFiles(
  fs: Pick<RemoteFs, 'size'>,
  dir: string,
  expected: { name: string; size?: number }[],
): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const file of expected) {
    const base = {
      name: file.name,
      ...(file.size === undefined ? {} : { expectedSize: file.size }),
    };
    const actual = await fs.size(joinRemote(dir, file.name));
    if (actual === undefined) {
      results.push({ ...base, ok: false, problem: `${file.name} is missing in ${dir}` });
    } else if (file.size !== undefined && actual !== file.size) {
      const how = actual < file.size ? 'short (incomplete upload?)' : 'larger than expected';
      results.push({
        ...base,
        ok: false,
        actualSize: actual,
        problem: `${file.name} has ${actual} bytes, expected ${file.size}: ${how}`,
      });
    } else {
      results.push({ ...base, ok: true, actualSize: actual });
    }
  }
  return results;
}
