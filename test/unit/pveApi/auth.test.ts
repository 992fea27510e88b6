import { describe, expect, it } from 'vitest';
import { createAuth, LoginRejected } from '../../../src/pveApi/auth.js';
import type { Params, RawResponse } from '../../../src/pveApi/http.js';

/** A fake /access/ticket endpoint: records forms, answers from a script. */
function fakeTicketServer(answer: (form: Params, n: number) => RawResponse) {
  const forms: Params[] = [];
  const send = async (form: Params): Promise<RawResponse> => {
    forms.push(form);
    return answer(form, forms.length);
  };
  return { forms, send };
}

const ok = (n: number): RawResponse => ({
  status: 200,
  reason: 'OK',
  body: {
    data: {
      username: 'backup@pve',
      ticket: `PVE:backup@pve:T${n}::sig`,
      CSRFPreventionToken: `C${n}`,
    },
  },
});

describe('token auth', () => {
  it('sends the token header on every method, no CSRF, never re-logs in', async () => {
    const server = fakeTicketServer((_f, n) => ok(n));
    const auth = createAuth(
      { kind: 'token', tokenId: 'backup@pve!nightly', secret: 's3cr3t' },
      server.send,
    );
    expect(await auth.headers('GET')).toEqual({
      authorization: 'PVEAPIToken=backup@pve!nightly=s3cr3t',
    });
    expect(await auth.headers('POST')).toEqual({
      authorization: 'PVEAPIToken=backup@pve!nightly=s3cr3t',
    });
    expect(await auth.relogin()).toBe(false);
    expect(auth.principal).toBe('backup@pve!nightly');
    expect(server.forms).toEqual([]);
  });
});

describe('ticket auth', () => {
  it('logs in once, sends the cookie, and the CSRF token only on non-GET', async () => {
    const server = fakeTicketServer((_f, n) => ok(n));
    const auth = createAuth(
      { kind: 'ticket', username: 'backup@pve', password: 'pw' },
      server.send,
    );
    const [a, b] = await Promise.all([auth.headers('GET'), auth.headers('GET')]);
    expect(server.forms).toEqual([{ username: 'backup@pve', password: 'pw' }]);
    expect(a).toEqual({ cookie: `PVEAuthCookie=${encodeURIComponent('PVE:backup@pve:T1::sig')}` });
    expect(b).toEqual(a);
    expect(await auth.headers('POST')).toMatchObject({ csrfpreventiontoken: 'C1' });
    expect(await auth.headers('DELETE')).toMatchObject({ csrfpreventiontoken: 'C1' });
    expect(auth.secrets().sort()).toEqual(['C1', 'PVE:backup@pve:T1::sig', 'pw']);
  });

  it('renews with the current ticket as password once it is older than renewAfterMs', async () => {
    let now = 1_000_000;
    const server = fakeTicketServer((_f, n) => ok(n));
    const auth = createAuth(
      { kind: 'ticket', username: 'backup@pve', password: 'pw' },
      server.send,
      {
        renewAfterMs: 60_000,
        now: () => now,
      },
    );
    await auth.headers('GET');
    now += 59_999;
    await auth.headers('GET');
    expect(server.forms).toHaveLength(1);
    now += 1;
    expect(await auth.headers('POST')).toMatchObject({ csrfpreventiontoken: 'C2' });
    expect(server.forms[1]).toEqual({ username: 'backup@pve', password: 'PVE:backup@pve:T1::sig' });
  });

  it('falls back to the password when the renewal is refused (ticket expired meanwhile)', async () => {
    let now = 0;
    const server = fakeTicketServer((form, n) =>
      form.password === 'pw'
        ? ok(n)
        : { status: 401, reason: 'authentication failure', body: { data: null } },
    );
    const auth = createAuth(
      { kind: 'ticket', username: 'backup@pve', password: 'pw' },
      server.send,
      {
        renewAfterMs: 10,
        now: () => now,
      },
    );
    await auth.headers('GET');
    now = 100;
    expect(await auth.headers('GET')).toEqual({ cookie: expect.stringContaining('T3') });
    expect(server.forms.map((f) => f.password)).toEqual(['pw', 'PVE:backup@pve:T1::sig', 'pw']);
  });

  it('relogin() forgets the session and logs in with the password', async () => {
    const server = fakeTicketServer((_f, n) => ok(n));
    const auth = createAuth({ kind: 'ticket', username: 'u@pam', password: 'pw' }, server.send);
    await auth.headers('GET');
    expect(await auth.relogin()).toBe(true);
    expect(await auth.headers('GET')).toEqual({ cookie: expect.stringContaining('T2') });
    expect(server.forms).toHaveLength(2);
  });

  it('wrong credentials and pending TFA become LoginRejected without the password in the message', async () => {
    const refused = createAuth(
      { kind: 'ticket', username: 'u@pam', password: 'hunter2' },
      fakeTicketServer(() => ({
        status: 401,
        reason: 'authentication failure',
        body: { data: null },
      })).send,
    );
    const err = await refused.headers('GET').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginRejected);
    expect((err as LoginRejected).status).toBe(401);
    expect(String((err as Error).message)).not.toContain('hunter2');

    const tfa = createAuth(
      { kind: 'ticket', username: 'u@pam', password: 'pw' },
      fakeTicketServer(() => ({
        status: 200,
        reason: 'OK',
        body: {
          data: { username: 'u@pam', ticket: 'PVE:half', CSRFPreventionToken: 'x', NeedTFA: 1 },
        },
      })).send,
    );
    await expect(tfa.headers('GET')).rejects.toThrow(/second factor/);
  });

  it('reports each secret as it comes into use, for redaction', async () => {
    const seen: string[][] = [];
    const server = fakeTicketServer((_f, n) => ok(n));
    let now = 0;
    const auth = createAuth({ kind: 'ticket', username: 'u@pam', password: 'pw' }, server.send, {
      renewAfterMs: 10,
      now: () => now,
      onSecrets: (s) => seen.push(s),
    });
    expect(seen).toEqual([['pw']]);
    await auth.headers('GET');
    now = 20;
    await auth.headers('GET');
    expect(seen).toEqual([
      ['pw'],
      ['PVE:backup@pve:T1::sig', 'C1'],
      ['PVE:backup@pve:T2::sig', 'C2'],
    ]);
    const tokenSeen: string[][] = [];
    createAuth({ kind: 'token', tokenId: 'a@pve!t', secret: 'tok' }, server.send, {
      onSecrets: (s) => tokenSeen.push(s),
    });
    expect(tokenSeen).toEqual([['tok']]);
  });

  it('does not expose the password as an enumerable property', () => {
    const auth = createAuth({ kind: 'ticket', username: 'u@pam', password: 'hunter2' }, async () =>
      ok(1),
    );
    expect(JSON.stringify(auth)).not.toContain('hunter2');
    expect(Object.values(auth)).not.toContain('hunter2');
  });
});
