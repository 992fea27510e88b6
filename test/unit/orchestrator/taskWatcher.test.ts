import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { TaskEndHint } from '../../../src/orchestrator/taskPacer.js';
import { isProgressLine, type TaskApi, watchTask } from '../../../src/orchestrator/taskWatcher.js';

/** A task on a virtual clock: lines appear at given times, the status flips at `endAt`. */
function fakeTask(o: {
  lines: { at: number; t: string }[];
  endAt: number;
  exitstatus: string;
  /** Write no final TASK line (worker killed hard). */
  noEndLine?: boolean;
  failFirst?: number;
}) {
  const clock = { now: 0 };
  const calls: { at: number; what: string; start?: number; limit?: number }[] = [];
  let failures = o.failFirst ?? 0;
  let stopAt: number | undefined;
  const end = () => (stopAt !== undefined ? Math.min(stopAt, o.endAt) : o.endAt);
  const visible = () => {
    const all = o.lines.filter((l) => l.at <= clock.now).map((l) => l.t);
    if (clock.now >= end() && !o.noEndLine) {
      all.push(stopAt !== undefined ? 'TASK ERROR: interrupted by signal' : `TASK ${o.exitstatus}`);
    }
    return all;
  };
  const api: TaskApi = {
    async taskStatus(_node, upid) {
      calls.push({ at: clock.now, what: 'status' });
      if (failures > 0) {
        failures--;
        throw new Error('503 busy');
      }
      return clock.now >= end()
        ? {
            upid,
            status: 'stopped',
            exitstatus: stopAt !== undefined ? 'interrupted by signal' : o.exitstatus,
          }
        : { upid, status: 'running' };
    },
    async taskLog(_node, _upid, start, limit) {
      calls.push({ at: clock.now, what: 'log', start, limit });
      if (failures > 0) {
        failures--;
        throw new Error('503 busy');
      }
      const all = visible();
      if (all.length === 0) return { lines: [{ n: 1, t: 'no content' }], total: 1 };
      const lines = all.slice(start, start + limit).map((t, i) => ({ n: start + i + 1, t }));
      return { lines, total: all.length };
    },
    async stopTask() {
      calls.push({ at: clock.now, what: 'stop' });
      stopAt = clock.now;
    },
  };
  const sleep = async (ms: number, signal?: AbortSignal, wake: AbortSignal[] = []) => {
    if (signal?.aborted) throw signal.reason;
    if (wake.some((w) => w.aborted)) return;
    clock.now += ms;
  };
  return { api, calls, clock, sleep };
}

const logger = silentLogger();

describe('watchTask', () => {
  it('follows a task to its end, reads every line once, and reports the exit status', async () => {
    const lines = Array.from({ length: 12 }, (_, i) => ({ at: i * 700, t: `INFO: line ${i}` }));
    const f = fakeTask({ lines, endAt: 9000, exitstatus: 'OK' });
    const result = await watchTask(f.api, {
      node: 'pve1',
      upid: 'UPID:x',
      logger,
      sleep: f.sleep,
      logPageLimit: 5,
    });
    expect(result.exitstatus).toBe('OK');
    expect(result.lines).toEqual([...lines.map((l) => l.t), 'TASK OK']);
    // Pages continue where the last one ended and always carry an explicit limit.
    for (const c of f.calls.filter((c) => c.what === 'log')) expect(c.limit).toBe(5);
  });

  it('polls fast once the archive is written: the end is seen within 300 ms, at <= 1 request/s', async () => {
    const endAt = 24_350;
    const f = fakeTask({
      lines: [
        { at: 0, t: 'INFO: starting new backup job: vzdump 101' },
        { at: 20_000, t: 'INFO: archive file size: 1.00GB' },
        { at: 20_010, t: 'INFO: Finished Backup of VM 101 (00:00:20)' },
      ],
      endAt,
      exitstatus: 'OK',
    });
    const r = await watchTask(f.api, { node: 'n', upid: 'u', logger, sleep: f.sleep });
    expect(r.exitstatus).toBe('OK');
    const last = f.calls.at(-1)!;
    expect(last.at).toBeGreaterThanOrEqual(endAt);
    expect(last.at - endAt).toBeLessThanOrEqual(300);
    // The final line ended the watch: no status confirmation after it.
    expect(last.what).toBe('log');
    // Over the task's life: at most one request per second.
    expect(f.calls.length).toBeLessThanOrEqual(endAt / 1000);
    // The middle was slow, to afford the fast tail.
    const middle = f.calls.filter((c) => c.at > 10_000 && c.at < 20_000);
    expect(middle.length).toBeLessThanOrEqual(6);
  });

  it('without a sign of the end, sees it within two ticks and never exceeds one request per second', async () => {
    const f = fakeTask({
      lines: [{ at: 0, t: 'INFO: starting' }],
      endAt: 20_350,
      exitstatus: 'OK',
    });
    await watchTask(f.api, { node: 'n', upid: 'u', logger, sleep: f.sleep });
    const last = f.calls.at(-1)!;
    expect(last.at - 20_350).toBeLessThanOrEqual(2000);
    for (let t = 0; t <= last.at; t += 1000) {
      // Any window from the start holds at most one request per started second.
      expect(f.calls.filter((c) => c.at <= t).length).toBeLessThanOrEqual(t / 1000 + 1);
    }
  });

  it("learns a node's task length: short similar tasks are seen ending within 300 ms at <= 1 request/s", async () => {
    // Twelve tasks of about 2 s (the bucket affords two requests each), the second one slow
    // (a stalled upload): what the hint learns must survive it.
    const ends = [2050, 3100, 1980, 2040, 2010, 2060, 1990, 2030, 2020, 2050, 2000, 2040];
    const hint = new TaskEndHint();
    const seen: { delay: number; requests: number }[] = [];
    for (const endAt of ends) {
      const f = fakeTask({ lines: [{ at: 0, t: 'INFO: starting' }], endAt, exitstatus: 'OK' });
      await watchTask(f.api, { node: 'n', upid: 'u', logger, sleep: f.sleep, endHint: hint });
      seen.push({ delay: f.calls.at(-1)!.at - endAt, requests: f.calls.length });
      // The bucket holds: any window from the start has at most one request per started second.
      for (const c of f.calls) {
        expect(f.calls.filter((x) => x.at <= c.at).length).toBeLessThanOrEqual(c.at / 1000 + 1);
      }
    }
    const delays = seen.slice(4).map((x) => x.delay);
    const median = [...delays].sort((a, b) => a - b)[Math.floor(delays.length / 2)]!;
    expect(median).toBeLessThanOrEqual(300);
    // Learning spends no extra requests: the hit tasks take two, like the bucket allows.
    expect(seen.filter((x) => x.requests <= 2).length).toBeGreaterThanOrEqual(6);
    for (const x of seen) expect(x.requests).toBeLessThanOrEqual(3);
  });

  it('a hint far too early or far too late never costs more than the bucket allows', async () => {
    for (const [guessFrom, endAt] of [
      [2000, 30_350],
      [30_000, 2050],
    ] as const) {
      const hint = new TaskEndHint();
      hint.observe(guessFrom - 100, guessFrom, undefined);
      const f = fakeTask({ lines: [{ at: 0, t: 'INFO: starting' }], endAt, exitstatus: 'OK' });
      await watchTask(f.api, { node: 'n', upid: 'u', logger, sleep: f.sleep, endHint: hint });
      const last = f.calls.at(-1)!;
      // Seen within two ticks, as without a hint.
      expect(last.at - endAt).toBeLessThanOrEqual(2000);
      for (let t = 0; t <= last.at; t += 1000) {
        expect(f.calls.filter((c) => c.at <= t).length).toBeLessThanOrEqual(t / 1000 + 1);
      }
    }
  });

  it('takes the exit status from the final line, as PVE does (WARNINGS, ERROR)', async () => {
    for (const [exitstatus, expected] of [
      ['WARNINGS: 2', 'WARNINGS: 2'],
      ['ERROR: job errors', 'job errors'],
    ] as const) {
      const f = fakeTask({
        lines: [{ at: 0, t: 'INFO: archive file size: 1MB' }],
        endAt: 700,
        exitstatus,
      });
      const r = await watchTask(f.api, { node: 'n', upid: 'u', logger, sleep: f.sleep });
      expect(r.exitstatus).toBe(expected);
      expect(f.calls.some((c) => c.what === 'status')).toBe(false);
    }
  });

  it('a TASK line followed by more lines is not the end', async () => {
    const f = fakeTask({
      lines: [
        { at: 0, t: 'INFO: archive file size: 1MB' },
        { at: 0, t: 'TASK OK' },
        { at: 0, t: 'INFO: still working' },
      ],
      endAt: 3000,
      exitstatus: 'ERROR: real failure',
    });
    const r = await watchTask(f.api, { node: 'n', upid: 'u', logger, sleep: f.sleep });
    expect(r.exitstatus).toBe('real failure');
  });

  it('does not lose the first line after an empty log ("no content")', async () => {
    const f = fakeTask({ lines: [{ at: 2500, t: 'INFO: first' }], endAt: 4000, exitstatus: 'OK' });
    const result = await watchTask(f.api, { node: 'n', upid: 'u', logger, sleep: f.sleep });
    expect(result.lines[0]).toBe('INFO: first');
    expect(result.lines).not.toContain('no content');
  });

  it('notices a task killed hard (no final line) through the periodic status poll', async () => {
    const f = fakeTask({
      lines: [],
      endAt: 3000,
      exitstatus: 'unexpected status',
      noEndLine: true,
    });
    const result = await watchTask(f.api, {
      node: 'n',
      upid: 'u',
      logger,
      sleep: f.sleep,
      statusEvery: 3,
    });
    expect(result.exitstatus).toBe('unexpected status');
    expect(f.clock.now).toBeLessThan(3000 + 3 * 1000 + 200);
  });

  it('surfaces progress lines', async () => {
    const progress: string[] = [];
    const f = fakeTask({
      lines: [
        { at: 0, t: 'INFO: starting' },
        { at: 500, t: 'INFO:  45% (2.0 GiB of 4.0 GiB) in 10s' },
        { at: 900, t: 'INFO: archive file size: 300MB' },
      ],
      endAt: 1500,
      exitstatus: 'OK',
    });
    await watchTask(f.api, {
      node: 'n',
      upid: 'u',
      logger,
      sleep: f.sleep,
      onProgress: (l) => progress.push(l),
    });
    expect(progress).toEqual([
      'INFO:  45% (2.0 GiB of 4.0 GiB) in 10s',
      'INFO: archive file size: 300MB',
    ]);
    expect(isProgressLine('INFO: first sync finished - transferred 9.35M bytes in 2s')).toBe(true);
    expect(isProgressLine('INFO: starting new backup job')).toBe(false);
  });

  it('rides out transient poll errors but gives up after too many in a row', async () => {
    const ok = fakeTask({ lines: [], endAt: 2000, exitstatus: 'OK', failFirst: 3 });
    await expect(
      watchTask(ok.api, { node: 'n', upid: 'u', logger, sleep: ok.sleep }),
    ).resolves.toMatchObject({
      exitstatus: 'OK',
    });
    const bad = fakeTask({ lines: [], endAt: 99_000, exitstatus: 'OK', failFirst: 1000 });
    await expect(
      watchTask(bad.api, {
        node: 'n',
        upid: 'u',
        logger,
        sleep: bad.sleep,
        maxConsecutiveErrors: 4,
      }),
    ).rejects.toThrow(/lost track of task u on node n after 4 failed polls/);
  });

  it('gives up when every status poll fails even though log pages keep arriving', async () => {
    // Killed hard: no final line, so only the status can tell the end; the status endpoint keeps failing.
    const f = fakeTask({
      lines: [{ at: 0, t: 'INFO: starting' }],
      endAt: 1000,
      exitstatus: 'unexpected status',
      noEndLine: true,
    });
    f.api.taskStatus = async () => {
      f.calls.push({ at: f.clock.now, what: 'status' });
      throw new Error('unexpected answer');
    };
    const sleep: typeof f.sleep = async (ms, signal, wake) => {
      if (f.clock.now > 3_600_000) throw new Error('still polling after an hour');
      return f.sleep(ms, signal, wake);
    };
    await expect(
      watchTask(f.api, { node: 'n', upid: 'u', logger, sleep, maxConsecutiveErrors: 4 }),
    ).rejects.toThrow(/lost track of task u on node n after 4 failed/);
  });

  it('stops the task through the API once when the stop signal fires, then follows it to the end', async () => {
    const stop = new AbortController();
    const f = fakeTask({
      lines: [{ at: 0, t: 'INFO: starting' }],
      endAt: 60_000,
      exitstatus: 'OK',
    });
    const origLog = f.api.taskLog;
    f.api.taskLog = async (...args) => {
      if (f.clock.now >= 2000) stop.abort();
      return origLog(...args);
    };
    const result = await watchTask(f.api, {
      node: 'n',
      upid: 'u',
      logger,
      sleep: f.sleep,
      stopSignal: stop.signal,
    });
    expect(f.calls.filter((c) => c.what === 'stop')).toHaveLength(1);
    expect(result.stopRequested).toBe(true);
    expect(result.exitstatus).toBe('interrupted by signal');
    expect(f.clock.now).toBeLessThan(5000);
  });

  it('gives up following a task that does not stop within the grace after the stop request', async () => {
    const stop = new AbortController();
    const f = fakeTask({
      lines: [{ at: 0, t: 'INFO: starting' }],
      endAt: 600_000,
      exitstatus: 'OK',
    });
    // PVE accepts the stop but the worker never ends (a hung hook, a node under load).
    f.api.stopTask = async () => {
      f.calls.push({ at: f.clock.now, what: 'stop' });
    };
    const origLog = f.api.taskLog;
    f.api.taskLog = async (...args) => {
      if (f.clock.now >= 2000) stop.abort();
      return origLog(...args);
    };
    await expect(
      watchTask(f.api, {
        node: 'n',
        upid: 'u',
        logger,
        sleep: f.sleep,
        now: () => f.clock.now,
        stopSignal: stop.signal,
        stopGraceMs: 8000,
      }),
    ).rejects.toThrow(/did not stop within 8 s of the stop request/);
    const stoppedAt = f.calls.find((c) => c.what === 'stop')?.at ?? 0;
    expect(f.clock.now - stoppedAt).toBeLessThanOrEqual(9000);
  });

  it('rejects when the watch itself is aborted', async () => {
    const ac = new AbortController();
    const f = fakeTask({ lines: [], endAt: 60_000, exitstatus: 'OK' });
    const origStatus = f.api.taskLog;
    f.api.taskLog = async (...args) => {
      if (f.clock.now > 3000) ac.abort(new Error('gone'));
      return origStatus(...args);
    };
    await expect(
      watchTask(f.api, { node: 'n', upid: 'u', logger, sleep: f.sleep, signal: ac.signal }),
    ).rejects.toThrow('gone');
  });
});
