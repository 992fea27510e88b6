/**
 * Running the BUILT CLI (`node dist/cli.js`) the way an admin or cron would:
 * a child process with its own environment, stdout (the --json report) and
 * stderr (logs) captured, bounded in time.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const repoRoot = resolve(import.meta.dirname, '../../..');
export const cliPath = join(repoRoot, 'dist', 'cli.js');

/**
 * Build dist/ once per test run. Several e2e files run in parallel forks: a
 * lock directory (mkdir is atomic) makes one build while the others wait.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(
    tmpdir(),
    `pve-ftp-backup-e2e-build-${Buffer.from(repoRoot).toString('hex').slice(-24)}`,
  );
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      // A lock older than any build (tsc is bounded at 110 s) was left by a killed test run.
      const held = await stat(lock).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > 150_000) {
        await rmdir(lock).catch(() => {});
        continue;
      }
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for too long`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const built = await stat(`${lock}.done`).catch(() => undefined);
    // A build finished less than 60 s ago serves this run too.
    if (built && Date.now() - built.mtimeMs < 60_000) return;
    await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: repoRoot,
      timeout: 110_000,
    }).catch((error: { stdout?: string }) => {
      // tsc emits despite type errors elsewhere in the tree; only a missing cli.js is fatal.
      process.stderr.write(
        `tsc reported errors (continuing when dist/cli.js exists):\n${error.stdout ?? ''}\n`,
      );
    });
    await stat(cliPath);
    await mkdir(`${lock}.done`).catch(async () => {
      await rmdir(`${lock}.done`);
      await mkdir(`${lock}.done`);
    });
  } finally {
    await rmdir(lock).catch(() => {});
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** Start the CLI; `done` resolves when it exits (killed after `timeoutMs`). */
export function startCli(
  args: string[],
  o: { env: Record<string, string>; cwd: string; timeoutMs?: number },
): CliRun {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: o.cwd,
    // A clean environment: only what the config's ${VAR}s need, plus PATH for the hook's tools.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: o.cwd, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<CliResult>((resolveDone) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveDone({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

/** Run the CLI to completion. */
export function runCli(
  args: string[],
  o: { env: Record<string, string>; cwd: string; timeoutMs?: number },
): Promise<CliResult> {
  return startCli(args, o).done;
}

/** Parse the one JSON document the CLI printed on stdout with --json. */
export function jsonReport<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\n--- stderr:\n${r.stderr}`,
    );
  }
}
