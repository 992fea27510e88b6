/**
 * A `pvesm` stand-in for a simulated node: the hook's `fetch` asks
 * `pvesm path STORAGE:backup/FILE` where the staging storage keeps backups, as
 * PVE itself resolves it (on a node: `/var/lib/vz/dump/FILE` for `local`). The
 * simulated node keeps every backup storage's files in its one dump dir, so
 * the stub answers that dir for the storages the node has, and PVE's error for
 * others.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NodeState } from './cluster.js';

/** sh single-quoting. */
const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** Writes the stub beside the node's dump dir; returns its path (mode 0755). */
export async function writePvesmStub(node: NodeState): Promise<string> {
  const file = path.join(path.dirname(node.dumpDir), 'pvesm');
  const cases = node.storages
    .map(
      (s) =>
        `${quote(`${s.id}:backup/`)}*) printf '%s/%s\\n' ${quote(node.dumpDir)} "\${2#*:backup/}" ;;`,
    )
    .join('\n  ');
  const script = `#!/bin/sh
# pvesm stand-in of the simulated node ${node.name}: only 'pvesm path VOLID'.
[ "\${1:-}" = path ] || { echo "pvesm (simulated): only 'path' is simulated" >&2; exit 2; }
case \${2:-} in
  */*/* | *:backup/ ) echo "unable to parse volume ID '\${2:-}'" >&2; exit 255 ;;
  ${cases}
  *:*) echo "storage '\${2%%:*}' does not exist" >&2; exit 255 ;;
  *) echo "unable to parse volume ID '\${2:-}'" >&2; exit 255 ;;
esac
`;
  await writeFile(file, script, { mode: 0o755 });
  return file;
}
