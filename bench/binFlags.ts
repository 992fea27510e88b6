/**
 * The node flags the installed bin runs with: the ones in dist/cli.js's
 * shebang (`#!/usr/bin/env -S node FLAGS`). The bench's orchestrator process
 * gets the same flags, so that its memory and CPU are what `pve-ftp-backup
 * run` costs, and the two cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function binNodeFlags(): string[] {
  const cli = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\S*env -S node\s*(.*)$/.exec(first);
  if (!match) throw new Error(`${cli}: first line is not '#!/usr/bin/env -S node FLAGS': ${first}`);
  return (match[1] ?? '').split(/\s+/).filter(Boolean);
}
