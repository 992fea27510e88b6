import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PveApiError, type PveClient, taskOutcome } from '../../../src/pveApi/index.js';
import type { PveSimulator } from '../../../src/sim/index.js';
import { captureLogger, clientFor, start, waitStopped } from './support.js';

let sim: PveSimulator | undefined;
let client: PveClient | undefined;
let tmp: string | undefined;
afterEach(async () => {
  await client?.close();
  await sim?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  client = undefined;
  sim = undefined;
  tmp = undefined;
});

const posts = (s: PveSimulator) =>
  s.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/vzdump'));

describe('GET retries', () => {
  it('rides out a 5xx burst and a 596 burst', async () => {
    sim = await start('8.4');
    const { logger, lines } = captureLogger();
    client = clientFor(sim, 'token', { logger });
    sim.addFault({ method: 'GET', path: '/nodes', status: 503, count: 2 });
    expect(await client.nodes()).toHaveLength(2);
    sim.addFault({ method: 'GET', path: /^\/nodes\/pve1\/lxc$/, status: 596, count: 3 });
    expect((await client.listGuests('pve1', 'lxc')).length).toBe(2);
    expect(sim.requests.map((r) => r.status)).toEqual([503, 503, 200, 596, 596, 596, 200]);
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(5);
  });

  it('gives up after the configured attempts with a PveApiError carrying status and reason', async () => {
    sim = await start('8.4');
    client = clientFor(sim, 'token', { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    sim.addFault({
      method: 'GET',
      path: '/nodes',
      status: 595,
      count: 10,
      reason: 'Errors during connection establishment, proxy handshake: Connection refused',
    });
    const err = (await client.nodes().catch((e: unknown) => e)) as PveApiError;
    expect(err).toBeInstanceOf(PveApiError);
    expect(err.status).toBe(595);
    expect(err.pveMessage).toMatch(/proxy handshake/);
    expect(err.message).toMatch(/^cluster "testcl": GET \/nodes failed, HTTP 595: Errors during/);
    expect(sim.requests).toHaveLength(3);
  });

  it('retries a GET whose answer was lost', async () => {
    sim = await start('8.4');
    client = clientFor(sim, 'token');
    sim.addFault({ method: 'GET', path: '/version', status: 200, count: 1, kind: 'drop-answer' });
    expect((await client.version()).major).toBe(8);
    expect(sim.requests.filter((r) => r.path === '/version')).toHaveLength(2);
  });

  it('a 400 carries PVE parameter errors and is not retried', async () => {
    sim = await start('8.4');
    client = clientFor(sim, 'token');
    const err = (await client
      .taskStatus('pve1', 'UPID:pve1:00001234:00005678:6179A779:vzdump:101:root@pam:')
      .catch((e: unknown) => e)) as PveApiError;
    expect(err.status).toBe(400);
    expect(err.paramErrors).toEqual({ upid: 'no such task' });
    expect(err.message).toContain('upid: no such task');
    expect(sim.requests).toHaveLength(1);
  });
});

describe('abort', () => {
  it('an aborted call rejects at once with the signal reason, unwrapped and not retried', async () => {
    sim = await start('8.4', { faults: { slow: [{ path: '/nodes', delayMs: 3000 }] } });
    client = clientFor(sim, 'token');
    const ac = new AbortController();
    const reason = new Error('interrupted by test');
    const t0 = Date.now();
    setTimeout(() => ac.abort(reason), 100);
    const err = await client.nodes(ac.signal).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err).toBe(reason);
    expect(sim.requests.filter((r) => r.path === '/nodes')).toHaveLength(1);
  });

  it('an already aborted signal sends nothing', async () => {
    sim = await start('8.4');
    client = clientFor(sim, 'token');
    const reason = new Error('already');
    await expect(client.version(AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(sim.requests).toHaveLength(0);
  });
});

describe.each([
  // 3.x: a missing storage fails the POST itself (before the fork), so no task exists.
  { flavour: '3.4', auth: 'ticket', nothing: { vmid: 101, storage: 'nosuch' } },
  // >= 6.0: a vmid of another node is skipped and nothing starts ("OK").
  { flavour: '8.4', auth: 'token', nothing: { vmid: 301, storage: 'ftp-staging' } },
] as const)('POST vzdump is never blindly re-sent ($flavour)', ({ flavour, auth, nothing }) => {
  it('a lost answer: exactly one task started, and the client returns its UPID', async () => {
    sim = await start(flavour, { backupDurationMs: 1500 });
    client = clientFor(sim, auth);
    sim.addFault({
      method: 'POST',
      path: '/nodes/pve1/vzdump',
      status: 200,
      count: 1,
      kind: 'drop-answer',
    });
    const res = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
    const tasks = sim.tasks();
    expect(tasks).toHaveLength(1);
    expect(res.upid).toBe(tasks[0]?.upid);
    expect(posts(sim)).toHaveLength(1);
    await sim.idle();
  });

  it('a lost answer with no task to find: a clear error, still one POST', async () => {
    sim = await start(flavour);
    client = clientFor(sim, auth);
    sim.addFault({
      method: 'POST',
      path: '/nodes/pve1/vzdump',
      status: 200,
      count: 1,
      kind: 'drop-answer',
    });
    const err = (await client.startVzdump('pve1', nothing).catch((e: unknown) => e)) as PveApiError;
    expect(err).toBeInstanceOf(PveApiError);
    expect(err.message).toContain(
      `answer to POST /nodes/pve1/vzdump (vmid ${nothing.vmid}) was lost`,
    );
    expect(sim.tasks()).toHaveLength(0);
    expect(err.message).toMatch(/not re-sent/);
    expect(posts(sim)).toHaveLength(1);
  });

  it.each([596, 597])(
    'a %i after pveproxy forwarded the POST: the task it started is found, no second POST',
    async (status) => {
      sim = await start(flavour, { backupDurationMs: 1500 });
      client = clientFor(sim, auth);
      sim.addFault({
        method: 'POST',
        path: '/nodes/pve1/vzdump',
        status,
        count: 1,
        kind: 'status-after',
      });
      const res = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
      const tasks = sim.tasks();
      expect(tasks).toHaveLength(1);
      expect(res.upid).toBe(tasks[0]?.upid);
      expect(posts(sim)).toHaveLength(1);
      await sim.idle();
    },
  );

  it('a 5xx answer to the POST is an error, not retried', async () => {
    sim = await start(flavour);
    client = clientFor(sim, auth);
    sim.addFault({
      method: 'POST',
      path: '/nodes/pve1/vzdump',
      status: 500,
      count: 1,
      reason: 'internal error',
    });
    const err = (await client
      .startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' })
      .catch((e: unknown) => e)) as PveApiError;
    expect(err.status).toBe(500);
    expect(posts(sim)).toHaveLength(1);
    expect(sim.tasks()).toHaveLength(0);
  });
});

describe('login failures before a POST', () => {
  it('a 503 and then a lost answer of /access/ticket are retried; the vzdump POST goes out once', async () => {
    sim = await start('8.4');
    client = clientFor(sim, 'ticket');
    sim.addFault({ method: 'POST', path: '/access/ticket', status: 503, count: 1 });
    sim.addFault({
      method: 'POST',
      path: '/access/ticket',
      status: 200,
      count: 1,
      kind: 'drop-answer',
    });
    const { upid } = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
    expect(upid).toBe(sim.tasks()[0]?.upid);
    expect(sim.requests.map((r) => [r.path, r.status])).toEqual([
      ['/access/ticket', 503],
      ['/access/ticket', 200],
      ['/access/ticket', 200],
      ['/nodes/pve1/vzdump', 200],
    ]);
    await sim.idle();
  });
});

describe('vzdump answers and outcomes (8.4)', () => {
  it('"OK" (vmid not on that node) means nothing was started', async () => {
    sim = await start('8.4');
    client = clientFor(sim, 'token');
    expect(await client.startVzdump('pve1', { vmid: 301, storage: 'ftp-staging' })).toEqual({
      upid: undefined,
      answer: 'OK',
    });
    expect(sim.tasks()).toHaveLength(0);
  });

  it('a failing log-end hook ends the task WARNINGS: 1, which counts as success', async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'pve-client-hook-'));
    const script = path.join(tmp, 'hook');
    await writeFile(script, '#!/bin/sh\n[ "$1" = log-end ] && exit 1\nexit 0\n');
    await chmod(script, 0o755);
    sim = await start('8.4', {
      nodes: [
        {
          name: 'pve1',
          vzdumpConf: { script },
          guests: [{ vmid: 101, type: 'lxc', status: 'running', archiveSize: 100 }],
        },
      ],
    });
    client = clientFor(sim, 'token');
    const { upid } = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
    const status = await waitStopped(client, 'pve1', upid!);
    expect(status.exitstatus).toBe('WARNINGS: 1');
    const log = await client.taskLog('pve1', upid!, 0, 500);
    const outcome = taskOutcome(
      status.exitstatus!,
      log.lines.map((l) => l.t),
    );
    expect(outcome).toEqual({ ok: true, warnings: 1, errors: [] });
  });

  it('a failed backup is a failure with its ERROR line', async () => {
    sim = await start('8.4', {
      faults: { failBackup: [{ vmid: 101, message: 'tar: disk full' }] },
    });
    client = clientFor(sim, 'token');
    const { upid } = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
    const status = await waitStopped(client, 'pve1', upid!);
    const log = await client.taskLog('pve1', upid!, 0, 500);
    const outcome = taskOutcome(
      status.exitstatus!,
      log.lines.map((l) => l.t),
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.errors).toContain('Backup of VM 101 failed - tar: disk full');
  });
});
