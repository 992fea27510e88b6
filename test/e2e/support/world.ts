/** Helpers around src/demo/world.ts for the end-to-end tests. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { walkTree } from '../../../src/demo/tree.js';
import { DEMO_FTP_DIR, type World } from '../../../src/demo/world.js';

export { DEMO_FTP_DIR, startWorld, type World } from '../../../src/demo/world.js';

/** `{node: {generation: [file names]}}` of the NAS tree (manifest included). */
export async function nasLayout(world: World): Promise<Record<string, Record<string, string[]>>> {
  const base = join(world.ftpRoot, DEMO_FTP_DIR);
  const out: Record<string, Record<string, string[]>> = {};
  for (const e of await walkTree(base)) {
    const parts = e.path.split('/');
    const [node, gen, file] = parts;
    if (!node) continue;
    out[node] ??= {};
    if (gen && parts.length === 2 && e.type === 'dir') out[node][gen] ??= [];
    if (gen && file && parts.length === 3) {
      out[node][gen] ??= [];
      out[node][gen].push(file);
    }
  }
  return out;
}

/** The whole NAS tree with sizes (to compare before/after). */
export function nasSnapshot(world: World) {
  return walkTree(world.ftpRoot);
}

/** Files in a simulated node's dump dir (the node-local staging copies). */
export async function nodeFiles(world: World, node: string): Promise<string[]> {
  return (await readdir(world.sim.dumpDir(node)).catch(() => [])).sort();
}

/** Archives only (no .log) among `names`. */
export function archives(names: string[]): string[] {
  return names.filter((n) => /^vzdump-.*\.(tar|vma|tgz)(\.(gz|lzo|zst))?$/.test(n));
}
