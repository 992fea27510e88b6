/**
 * The `command` notification: a program (argv, no shell) given the JSON run
 * report on stdin, bounded in time. What it prints is kept (bounded) for the
 * log; a program that outlives the bound is killed, TERM first, then KILL.
 */
import { spawn } from 'node:child_process';
import type { AttemptResult } from './attempts.js';

/** Output kept from each stream; the rest is dropped (a chatty program cannot fill memory). */
const MAX_OUTPUT = 16 * 1024;
/** Time a killed program gets between TERM and KILL. */
const KILL_GRACE_MS = 500;

export interface CommandOutcome {
  result: AttemptResult;
  /** What it wrote to stdout and stderr (each cut at 16 KiB). */
  stdout: string;
  stderr: string;
}

function collector() {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add(chunk: Buffer) {
      if (size >= MAX_OUTPUT) return;
      chunks.push(chunk.subarray(0, MAX_OUTPUT - size));
      size += chunk.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8').trimEnd(),
  };
}

/** Runs `argv` once with `input` on stdin; exit 0 within `timeoutMs` is success. */
export function runCommandOnce(
  argv: readonly string[],
  input: string,
  o: { timeoutMs: number; signal?: AbortSignal },
): Promise<CommandOutcome> {
  const [program, ...args] = argv;
  const out = collector();
  const err = collector();
  return new Promise((resolve) => {
    if (program === undefined) {
      resolve({
        result: { ok: false, problem: 'no program to run', retry: false },
        stdout: '',
        stderr: '',
      });
      return;
    }
    let why: string | undefined;
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: string) => {
      if (why !== undefined || child.exitCode !== null) return;
      why = reason;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const bound = setTimeout(
      () => stop(`did not finish within ${o.timeoutMs / 1000} s (killed)`),
      o.timeoutMs,
    );
    const onAbort = () => stop('aborted (killed)');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', out.add);
    child.stderr.on('data', err.add);
    // A program that does not read its stdin closes the pipe: not a failure by itself.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    let spawnError: string | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code ?? 'cannot start';
    });
    child.on('close', (code, signal) => {
      clearTimeout(bound);
      clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', onAbort);
      const finish = (result: AttemptResult) =>
        resolve({ result, stdout: out.text(), stderr: err.text() });
      if (spawnError !== undefined)
        return finish({
          ok: false,
          problem: `cannot start ${program} (${spawnError})`,
          retry: false,
        });
      if (why !== undefined) return finish({ ok: false, problem: why, retry: !o.signal?.aborted });
      if (code === 0) return finish({ ok: true });
      const status = code !== null ? `exit code ${code}` : `signal ${signal}`;
      finish({ ok: false, problem: `ended with ${status}`, retry: true });
    });
  });
}
