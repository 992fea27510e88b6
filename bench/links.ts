/**
 * The bench is compiled with src/ into .tmp/bench/ (its own tsconfig, no new
 * dependency). Modules that read package files relative to themselves
 * (src/hook/script.ts → ../../hook, src/sim/vzdumpSchema.ts → ../../fixtures)
 * then look inside .tmp/bench/: link those two directories there (outside
 * dist/, so that no bench file ever ships in the package).
 */
import { lstat, symlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Create .tmp/bench/{hook,fixtures} → the repo's own, once. */
export async function ensurePackageLinks(): Promise<void> {
  const buildRoot = fileURLToPath(new URL('../', import.meta.url));
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  for (const name of ['hook', 'fixtures']) {
    const link = `${buildRoot}${name}`;
    const exists = await lstat(link).then(
      () => true,
      () => false,
    );
    if (!exists) await symlink(`${repoRoot}${name}`, link, 'dir');
  }
}
