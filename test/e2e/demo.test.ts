/**
 * `pve-ftp-backup demo` through the BUILT CLI: needs nothing but the package;
 * two real runs against the embedded world, and it cleans up after itself.
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';

beforeAll(async () => {
  await ensureBuilt();
}, 120_000);

describe('demo', () => {
  it('runs twice, saving the running containers into daily.0 and daily.1 per node, and removes its files', async () => {
    const t0 = Date.now();
    const r = await runCli(['demo', '--json'], { env: {}, cwd: tmpdir(), timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const out = jsonReport<{
      exitCode: number;
      workDir: string;
      runs: RunReport[];
      nasTree: { path: string }[];
    }>(r);
    expect(out.runs.map((run) => [run.exitCode, run.summary.saved, run.summary.failed])).toEqual([
      [0, 4, 0],
      [0, 4, 0],
    ]);
    const dirs = out.nasTree.map((e) => e.path).filter((p) => /daily\.\d$/.test(p));
    expect(dirs).toEqual([
      'backup/dump/pve1/daily.0',
      'backup/dump/pve1/daily.1',
      'backup/dump/pve2/daily.0',
      'backup/dump/pve2/daily.1',
    ]);
    expect(out.workDir).toMatch(/pve-ftp-backup-world-/);
    await expect(access(out.workDir)).rejects.toThrow();
  }, 90_000);

  describe('in a production install (development dependencies absent)', () => {
    let dir: string | undefined;
    let nodeOptions = '';
    beforeAll(async () => {
      nodeOptions = await hideDevDependencies();
    });
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** A Node resolve hook that makes ftp-srv and selfsigned missing, as `npm install --omit=dev` leaves them. */
    async function hideDevDependencies(): Promise<string> {
      dir = await mkdtemp(join(tmpdir(), 'pfb-nodev-'));
      const hook = join(dir, 'hide.mjs');
      await writeFile(
        hook,
        `export async function resolve(specifier, context, next) {
  if (specifier === 'ftp-srv' || specifier === 'selfsigned') {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
`,
      );
      const register = join(dir, 'register.mjs');
      await writeFile(
        register,
        `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
      );
      return `--import=${pathToFileURL(register).href}`;
    }

    it('demo exits 2 naming the missing packages and how to get them; starts nothing', async () => {
      const r = await runCli(['demo', '--json'], {
        env: { NODE_OPTIONS: nodeOptions },
        cwd: tmpdir(),
        timeoutMs: 20_000,
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('ftp-srv and selfsigned are not installed');
      expect(r.stderr).toContain('npm ci');
    });

    it('the other commands do not need them', async () => {
      for (const args of [['--help'], ['hook'], ['config', 'schema']]) {
        const r = await runCli(args, {
          env: { NODE_OPTIONS: nodeOptions },
          cwd: tmpdir(),
          timeoutMs: 20_000,
        });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      }
      const r = await runCli(['list', '-c', 'no-such.yaml'], {
        env: { NODE_OPTIONS: nodeOptions },
        cwd: tmpdir(),
        timeoutMs: 20_000,
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('no-such.yaml');
    });
  });
});
