import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PveSimulator, startSimulator } from '../../../src/sim/index.js';
import { client } from './helpers.js';

const guests = [{ vmid: 101, type: 'lxc' as const, status: 'running' as const, archiveSize: 10 }];

describe('simulator auth (9.1)', () => {
  let sim: PveSimulator;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    sim = await startSimulator({
      flavour: '9.1',
      nodes: [{ name: 'pve1', guests }],
      tokens: [{ id: 'backup@pve!nightly', secret: 'tok-secret' }],
      users: [{ userid: 'root@pam', password: 'pw' }],
      authFailureDelayMs: 150,
      ticketLifetimeSec: 2,
    });
    c = client(sim);
  });
  afterAll(async () => {
    await c.close();
    await sim.close();
  });

  it('serves /version with a token and no CSRF', async () => {
    const a = await c.call('GET', '/version', { token: 'backup@pve!nightly=tok-secret' });
    expect(a.status).toBe(200);
    expect(a.json.data).toMatchObject({ release: '9.1' });
  });

  it('refuses a wrong token secret after the delay, reason in the status line, message in the body', async () => {
    const t0 = Date.now();
    const a = await c.call('GET', '/version', { token: 'backup@pve!nightly=nope' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(a.status).toBe(401);
    expect(a.reason).toBe('Authentication failed!');
    expect(a.json).toEqual({ data: null, message: 'Authentication failed!\n' });
    expect(a.headers.connection).toBe('close');
  });

  it('answers 401 No ticket without credentials', async () => {
    const a = await c.call('GET', '/nodes');
    expect([a.status, a.reason]).toEqual([401, 'No ticket']);
  });

  it('logs in, needs the CSRF token on POST, renews with the ticket, expires tickets', async () => {
    const bad = await c.call('POST', '/access/ticket', {
      form: { username: 'root@pam', password: 'x' },
    });
    expect([bad.status, bad.reason]).toEqual([401, 'Authentication failed!']);

    const login = await c.call('POST', '/access/ticket', {
      form: { username: 'root', realm: 'pam', password: 'pw' },
    });
    expect(login.status).toBe(200);
    const d = login.json.data as { ticket: string; CSRFPreventionToken: string; username: string };
    expect(d.username).toBe('root@pam');
    expect(d.ticket).toMatch(/^PVE:root@pam:[0-9A-F]{8}::[A-Za-z0-9+/=]+$/);
    expect(d.CSRFPreventionToken).toMatch(/^[0-9A-F]{8}:[A-Za-z0-9+/]+$/);

    const get = await c.call('GET', '/nodes', { ticket: d.ticket });
    expect(get.status).toBe(200);

    const noCsrf = await c.call('POST', '/nodes/pve1/vzdump', {
      ticket: d.ticket,
      form: { vmid: '101' },
    });
    expect([noCsrf.status, noCsrf.reason]).toEqual([401, 'Permission denied - invalid csrf token']);
    const wrongCsrf = await c.call('POST', '/nodes/pve1/vzdump', {
      ticket: d.ticket,
      csrf: `${d.CSRFPreventionToken}x`,
      form: { vmid: '101' },
    });
    expect(wrongCsrf.status).toBe(401);

    const renewed = await c.call('POST', '/access/ticket', {
      form: { username: 'root@pam', password: d.ticket },
    });
    expect(renewed.status).toBe(200);

    // Lifetime is 2 s here: wait until the ticket's second ticks past it.
    await new Promise((r) => setTimeout(r, 3100));
    const expired = await c.call('GET', '/nodes', { ticket: d.ticket });
    expect([expired.status, expired.reason]).toEqual([401, 'Authentication failed!']);
    const lateRenew = await c.call('POST', '/access/ticket', {
      form: { username: 'root@pam', password: d.ticket },
    });
    expect(lateRenew.status).toBe(401);
  });

  it('accepts the ticket in an Authorization header on current flavours', async () => {
    const login = await c.call('POST', '/access/ticket', {
      form: { username: 'root@pam', password: 'pw' },
    });
    const { ticket } = login.json.data as { ticket: string };
    const res = await fetchWithAuthHeader(sim, c, `PVEAuthCookie=${ticket}`);
    expect(res).toBe(200);
  });
});

async function fetchWithAuthHeader(sim: PveSimulator, c: ReturnType<typeof client>, value: string) {
  const { request } = await import('undici');
  const r = await request(`${sim.url}/api2/json/version`, {
    headers: { authorization: value },
    dispatcher: c.agent,
  });
  await r.body.text();
  return r.statusCode;
}

describe('simulator auth (3.4)', () => {
  let sim: PveSimulator;
  let c: ReturnType<typeof client>;
  beforeAll(async () => {
    sim = await startSimulator({
      flavour: '3.4',
      nodes: [
        {
          name: 'pve1',
          guests: [{ vmid: 101, type: 'openvz', status: 'running', archiveSize: 10 }],
        },
      ],
      tokens: [{ id: 'root@pam!t', secret: 's' }],
      users: [{ userid: 'root@pam', password: 'pw' }],
      authFailureDelayMs: 0,
    });
    c = client(sim);
  });
  afterAll(async () => {
    await c.close();
    await sim.close();
  });

  it('has no API tokens and the classic reasons, no message in error bodies', async () => {
    const a = await c.call('GET', '/version', { token: 'root@pam!t=s' });
    expect([a.status, a.reason]).toEqual([401, 'No ticket']);
    const bad = await c.call('POST', '/access/ticket', {
      form: { username: 'root@pam', password: 'no' },
    });
    expect([bad.status, bad.reason]).toEqual([401, 'authentication failure']);
    expect(bad.json).toEqual({ data: null });
    const forged = await c.call('GET', '/version', { ticket: 'PVE:root@pam:4EEC61E2::abc' });
    expect([forged.status, forged.reason]).toEqual([401, 'permission denied - invalid PVE ticket']);
  });

  it('refuses JSON bodies with 506 and accepts form bodies', async () => {
    const json = await c.call('POST', '/access/ticket', {
      json: { username: 'root@pam', password: 'pw' },
    });
    expect(json.status).toBe(506);
    const form = await c.call('POST', '/access/ticket', {
      form: { username: 'root@pam', password: 'pw' },
    });
    expect(form.status).toBe(200);
    expect(Object.keys(form.json.data as object).sort()).toEqual(
      ['CSRFPreventionToken', 'cap', 'clustername', 'ticket', 'username'].sort(),
    );
  });
});

describe('odd requests', () => {
  it('answers 501 for a UTF-8 path without breaking the reason phrase', async () => {
    const sim = await startSimulator({
      flavour: '8.4',
      nodes: [{ name: 'pve1', guests }],
      tokens: [{ id: 'root@pam!t', secret: 's' }],
      authFailureDelayMs: 0,
    });
    const c = client(sim);
    try {
      const a = await c.call('GET', `/nodes/pve1/${encodeURIComponent('gäste✓')}`, {
        token: 'root@pam!t=s',
      });
      expect(a.status).toBe(501);
      expect(a.reason).toMatch(/^Method 'GET \/nodes\/pve1\/g.*' not implemented$/);
      const ok = await c.call('GET', '/version', { token: 'root@pam!t=s' });
      expect(ok.status).toBe(200);
    } finally {
      await c.close();
      await sim.close();
    }
  });
});
