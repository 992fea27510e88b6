/**
 * The NAS tree as the demo prints it, read from the FTP server's local root
 * (the demo owns the server, so it may look at its disk directly).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeEntry {
  /** Path relative to the root, `/`-separated. */
  path: string;
  type: 'file' | 'dir';
  size: number;
}

/** Every entry under `root`, sorted by path (bounded depth: the layout is shallow). */
export async function walkTree(root: string, maxDepth = 8): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    if (depth > maxDepth) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push({ path, type: 'dir', size: 0 });
        await walk(join(dir, e.name), path, depth + 1);
      } else if (e.isFile()) {
        out.push({ path, type: 'file', size: (await stat(join(dir, e.name))).size });
      }
    }
  };
  await walk(root, '', 0);
  return out;
}

/** Indented text rendering of a tree listing. */
export function formatTree(entries: readonly TreeEntry[]): string {
  return entries
    .map((e) => {
      const depth = e.path.split('/').length - 1;
      const name = e.path.split('/').at(-1) ?? e.path;
      return `${'  '.repeat(depth)}${name}${e.type === 'dir' ? '/' : `  (${e.size} bytes)`}`;
    })
    .join('\n');
}
