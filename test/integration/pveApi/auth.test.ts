import { afterEach, describe, expect, it } from 'vitest';
import { PveAuthError, type PveClient } from '../../../src/pveApi/index.js';
import type { PveSimulator } from '../../../src/sim/index.js';
import { captureLogger, clientFor, errorTexts, start, TOKEN, USER } from './support.js';

let sim: PveSimulator | undefined;
let client: PveClient | undefined;
afterEach(async () => {
  await client?.close();
  await sim?.close();
  client = undefined;
  sim = undefined;
});

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

describe('token auth (8.4)', () => {
  it('sends the token on every request and never logs in or sends CSRF', async () => {
    sim = await start('8.4');
    client = clientFor(sim, 'token');
    await client.nodes();
    await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
    expect(sim.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/nodes', 200],
      ['POST', '/nodes/pve1/vzdump', 200],
    ]);
    for (const r of sim.requests) {
      expect(header(r.headers.authorization)).toBe(`PVEAPIToken=${TOKEN.id}=${TOKEN.secret}`);
      expect(r.headers.csrfpreventiontoken).toBeUndefined();
    }
    await sim.idle();
  });

  it('a wrong secret is a PveAuthError naming cluster and token id, without retries', async () => {
    sim = await start('8.4');
    const wrong = 'ffffffff-0000-4a5b-9c8d-000000000000';
    client = clientFor(sim, 'token', { auth: { kind: 'token', tokenId: TOKEN.id, secret: wrong } });
    const err = await client.nodes().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveAuthError);
    expect((err as PveAuthError).message).toContain('testcl');
    expect((err as PveAuthError).message).toContain(TOKEN.id);
    expect((err as PveAuthError).status).toBe(401);
    expect(errorTexts(err)).not.toContain(wrong);
    expect(sim.requests).toHaveLength(1);
  });
});

describe('token auth against PVE 3.4 (no tokens before 6.2)', () => {
  it('fails as PveAuthError that says why', async () => {
    sim = await start('3.4');
    client = clientFor(sim, 'token');
    const err = await client.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveAuthError);
    expect((err as Error).message).toMatch(/API tokens need PVE >= 6\.2/);
    expect(errorTexts(err)).not.toContain(TOKEN.secret);
  });
});

describe.each(['3.4', '8.4'] as const)('ticket auth (%s)', (flavour) => {
  it('logs in once, sends the cookie, and the CSRF token on POST and DELETE only', async () => {
    sim = await start(flavour, { backupDurationMs: 3000 });
    client = clientFor(sim, 'ticket');
    await Promise.all([client.nodes(), client.version()]);
    const { upid } = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
    await client.stopTask('pve1', upid!);
    const logins = sim.requests.filter((r) => r.path === '/access/ticket');
    expect(logins).toHaveLength(1);
    expect(logins[0]?.body).toEqual({ username: USER.userid, password: USER.password });
    const calls = sim.requests.filter((r) => r.path !== '/access/ticket');
    expect(calls.every((r) => r.status === 200)).toBe(true);
    for (const r of calls) {
      expect(String(r.headers.cookie)).toMatch(/^PVEAuthCookie=PVE%3Abackup%40pve%3A/);
      expect(r.headers.csrfpreventiontoken === undefined).toBe(r.method === 'GET');
    }
    await sim.idle();
  });

  it('renews the ticket before it expires, with the ticket as password', async () => {
    sim = await start(flavour, { ticketLifetimeSec: 3 });
    client = clientFor(sim, 'ticket', { ticketRenewAfterMs: 1000 });
    await client.nodes();
    await new Promise((r) => setTimeout(r, 1100));
    await client.nodes();
    const logins = sim.requests.filter((r) => r.path === '/access/ticket');
    expect(logins).toHaveLength(2);
    expect(logins[1]?.body.password).toMatch(/^PVE:backup@pve:[0-9A-F]{8}::/);
    expect(logins.map((r) => r.status)).toEqual([200, 200]);
    expect(sim.requests.filter((r) => r.status === 401)).toEqual([]);
    // the renewed ticket is the one used afterwards
    const lastCookie = String(sim.requests.at(-1)?.headers.cookie);
    expect(lastCookie).not.toBe(String(sim.requests[1]?.headers.cookie));
  });

  it('logs in again once after a 401 (expired ticket) and repeats the call', async () => {
    sim = await start(flavour, { ticketLifetimeSec: 1 });
    client = clientFor(sim, 'ticket');
    await client.nodes();
    // age > 1 s in whole seconds: at most ~2 s of waiting
    await new Promise((r) => setTimeout(r, 2100));
    expect((await client.nodes()).length).toBe(2);
    expect(sim.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/access/ticket', 200],
      ['GET', '/nodes', 200],
      ['GET', '/nodes', 401],
      ['POST', '/access/ticket', 200],
      ['GET', '/nodes', 200],
    ]);
    expect(sim.requests[3]?.body.password).toBe(USER.password);
  });

  it('a wrong password is a PveAuthError naming cluster and user, never the password', async () => {
    sim = await start(flavour);
    const { logger, lines } = captureLogger();
    client = clientFor(sim, 'ticket', {
      logger,
      auth: { kind: 'ticket', username: USER.userid, password: 'wrong-Pa55word' },
    });
    const err = await client.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveAuthError);
    expect((err as PveAuthError).message).toMatch(
      /cluster "testcl": authentication failed for backup@pve/,
    );
    expect(errorTexts(err)).not.toContain('wrong-Pa55word');
    expect(lines.join('')).not.toContain('wrong-Pa55word');
    // one login attempt: 401s cost ~3 s each on real PVE, never hammer
    expect(sim.requests.map((r) => r.path)).toEqual(['/access/ticket']);
  });
});
