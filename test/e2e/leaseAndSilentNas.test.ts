/**
 * Issue #8 §2 and §3 through the BUILT CLI. A lock a killed run left on
 * another host (a CI runner or pod that no longer exists) is taken over once
 * the NAS's clock says it went unrenewed for lockLease — the NAS is made to
 * think so by the holder file's mtime on its disk — and the report names the
 * old holder. A NAS that stops answering mid-run (a relay in front of it stops
 * forwarding, connections left open) ends the run in bounded time: the
 * running vzdump is stopped, the rest not started, exit 1 or 3 naming the NAS.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/orchestrator/report.js';
import { type FtpRelay, startFtpRelay } from '../support/ftpRelay.js';
import { ensureBuilt, jsonReport, runCli, startCli } from './support/cli.js';
import { DEMO_FTP_DIR, startWorld, type World } from './support/world.js';

const KiB = 1024;
let world: World;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 3,
    // Guest 101 runs long enough for the NAS to go silent under it; 102 is quick.
    backupDurationMs: (g) => (g.vmid === 101 ? 60_000 : 100),
    nodes: [
      {
        name: 'pve1',
        guests: [101, 102].map((vmid) => ({
          vmid,
          type: 'lxc' as const,
          name: `ct${vmid}`,
          status: 'running' as const,
          archiveSize: 64 * KiB,
        })),
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const lockDir = () => join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', '.lock');
const opts = () => ({ env: world.env, cwd: world.tmp, timeoutMs: 90_000 });

/** A holder file as a run on another host wrote it, `ageMs` old by the NAS's disk. */
async function leftLock(ageMs: number): Promise<void> {
  await mkdir(lockDir(), { recursive: true });
  const file = join(lockDir(), 'holder.json');
  await writeFile(
    file,
    JSON.stringify({
      runId: '20261130T020000Z-dead01',
      host: 'ci-runner-7f3a9',
      pid: 4711,
      startedAt: '2026-11-30T02:00:00.000Z',
      token: randomUUID(),
    }),
  );
  const t = new Date(Date.now() - ageMs);
  await utimes(file, t, t);
}

describe('lease', () => {
  afterEach(async () => {
    await world.sim.idle();
  });

  it('a fresh lock of another host is respected (exit 3, naming the holder); one unrenewed for lockLease is taken over with a warning', async () => {
    await world.writeConfig({
      backup: { parallelNodes: 1 },
      lockLease: '10m' as unknown as Record<string, unknown>,
    });
    await leftLock(60_000);
    const held = await runCli(['run', '-c', world.configPath, '--json', '--vmid', '102'], opts());
    expect(held.code, held.stderr).toBe(3);
    const heldNode = jsonReport<RunReport>(held).nodes[0];
    expect(heldNode?.status).toBe('locked');
    expect(heldNode?.lockHolder).toMatchObject({ host: 'ci-runner-7f3a9', pid: 4711 });
    expect(heldNode?.reason).toMatch(/last renewed 1m\d\ds ago by the NAS clock/);

    await leftLock(11 * 60_000);
    const r = await runCli(['run', '-c', world.configPath, '--json', '--vmid', '102'], opts());
    expect(r.code, r.stderr).toBe(0);
    const node = jsonReport<RunReport>(r).nodes[0];
    expect(node?.status).toBe('done');
    expect(node?.lockTakenOver?.holder).toMatchObject({
      runId: '20261130T020000Z-dead01',
      host: 'ci-runner-7f3a9',
      pid: 4711,
    });
    expect(node?.lockTakenOver?.idleMs).toBeGreaterThanOrEqual(11 * 60_000 - 5000);
    expect(node?.warnings.join('\n')).toMatch(
      /took over stale node lock .* run 20261130T020000Z-dead01 \(host ci-runner-7f3a9, pid 4711/,
    );
    expect(r.stderr).toMatch(/took over stale node lock/);
    // Released at the end: nothing of the old or the new lock is left.
    expect(await readdir(lockDir()).catch(() => 'gone')).toBe('gone');
  }, 90_000);
});

describe('a NAS that stops answering', () => {
  let relay: FtpRelay | undefined;
  afterEach(async () => {
    await relay?.close();
    await world.writeConfig();
    await world.sim.idle();
  });

  it('ends the run in bounded time: the running vzdump stopped, the rest not started, exit 1 or 3 naming the NAS', async () => {
    relay = await startFtpRelay({ host: world.ftp.host, port: world.ftp.port });
    // Only the tool goes through the relay; lockLease 20s makes every NAS timeout 2 s.
    await world.writeConfig({
      ftp: { port: relay.port },
      lockLease: '20s' as unknown as Record<string, unknown>,
    });
    const tasksBefore = world.sim.tasks().length;
    const run = startCli(['run', '-c', world.configPath, '--json'], opts());
    const deadline = Date.now() + 30_000;
    while (
      !world.sim
        .tasks()
        .slice(tasksBefore)
        .some((t) => t.running && t.vmids.includes(101))
    ) {
      if (Date.now() > deadline) throw new Error('guest 101 never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    relay.silence();
    const silentAt = Date.now();
    const done = await run.done;
    const took = Date.now() - silentAt;
    process.stdout.write(
      `\n[silent NAS, lockLease 20s: run ended ${took} ms after the NAS went silent]\n`,
    );

    expect([1, 3], done.stderr).toContain(done.code);
    // 2 s renewal + 2 s command + 2 s reconnect + <= 8 s stop grace + 2 s release, and slack.
    expect(took).toBeLessThan(25_000);
    const report = jsonReport<RunReport>(done);
    const node = report.nodes[0];
    expect(node?.status).toBe('error');
    expect(node?.reason).toMatch(/the NAS does not answer/);
    expect(node?.guests.map((g) => [g.vmid, g.outcome])).toEqual([
      [101, 'failed'],
      [102, 'not-started'],
    ]);
    expect(node?.guests[1]?.error).toMatch(/the NAS does not answer/);
    expect(done.stderr).toMatch(/NAS does not answer/);
    // The vzdump of 101 was stopped through the API, and 102's never started.
    const tasks = world.sim.tasks().slice(tasksBefore);
    expect(tasks.filter((t) => t.vmids.includes(102))).toEqual([]);
    expect(tasks.some((t) => t.vmids.includes(101) && !t.running)).toBe(true);
    expect(world.sim.requests.some((q) => q.method === 'DELETE' && /\/tasks\//.test(q.path))).toBe(
      true,
    );
    expect(done.stdout + done.stderr).not.toContain(world.env.FTP_PASSWORD);
  }, 90_000);
});
