import { afterEach, describe, expect, it } from 'vitest';
import type { PveClient } from '../../../src/pveApi/index.js';
import type { PveSimulator } from '../../../src/sim/index.js';
import { captureLogger, clientFor, errorTexts, start, TOKEN, USER } from './support.js';

let sim: PveSimulator | undefined;
const clients: PveClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await sim?.close();
  sim = undefined;
});

/** Every secret that crossed the wire: passwords, token secret, tickets, CSRF tokens. */
function secretsSeen(s: PveSimulator, extra: string[]): string[] {
  const out = new Set(extra);
  for (const r of s.requests) {
    const cookie = String(r.headers.cookie ?? '');
    const m = /PVEAuthCookie=([^;]+)/.exec(cookie);
    if (m?.[1]) {
      out.add(m[1]);
      out.add(decodeURIComponent(m[1]));
    }
    const csrf = r.headers.csrfpreventiontoken;
    if (typeof csrf === 'string') out.add(csrf);
    const pw = r.body.password;
    if (typeof pw === 'string') out.add(pw);
  }
  // the signature part alone must not leak either
  for (const s of [...out]) {
    const sig = /::(.+)$/.exec(s)?.[1];
    if (sig) out.add(sig);
  }
  return [...out].filter((s) => s.length >= 6);
}

async function attempt(errors: unknown[], p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    errors.push(err);
  }
}

describe('no secret in any log line or error message', () => {
  it.each([
    ['3.4', 'ticket'],
    ['8.4', 'ticket'],
    ['8.4', 'token'],
  ] as const)(
    '%s with %s auth, through success, retries, lost answers and auth failures',
    async (flavour, auth) => {
      sim = await start(flavour, { ticketLifetimeSec: 1, backupDurationMs: 2000 });
      const { logger, lines } = captureLogger();
      const errors: unknown[] = [];
      const client = clientFor(sim, auth, { logger });
      clients.push(client);

      await client.version();
      sim.addFault({ method: 'GET', path: '/nodes', status: 503, count: 1 });
      await client.nodes();
      sim.addFault({
        method: 'POST',
        path: '/nodes/pve1/vzdump',
        status: 200,
        count: 1,
        kind: 'drop-answer',
      });
      const { upid } = await client.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' });
      await attempt(errors, client.stopTask('pve1', upid!));
      await attempt(errors, client.startVzdump('pve1', { vmid: 101, storage: 'nosuch' }));
      await attempt(
        errors,
        client.taskLog('pve1', 'UPID:pve1:00000001:00000002:6179A779:vzdump::x@pve:', 0, 10),
      );
      if (auth === 'ticket') {
        // the ticket expires: 401, re-login, repeat
        await new Promise((r) => setTimeout(r, 2100));
        await client.nodes();
      }
      const badPassword = 'Wr0ng-password-123';
      const badSecret = '00000000-dead-beef-0000-000000000000';
      const wrong = clientFor(sim, auth, {
        logger,
        auth:
          auth === 'token'
            ? { kind: 'token', tokenId: TOKEN.id, secret: badSecret }
            : { kind: 'ticket', username: USER.userid, password: badPassword },
      });
      clients.push(wrong);
      await attempt(errors, wrong.nodes());
      await attempt(errors, wrong.startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' }));
      await sim.idle();

      const secrets = secretsSeen(sim, [
        TOKEN.secret,
        USER.password,
        badPassword,
        badSecret,
        ...client.secrets(),
      ]);
      expect(secrets.length).toBeGreaterThanOrEqual(auth === 'ticket' ? 4 : 2);
      expect(errors.length).toBeGreaterThanOrEqual(3);
      expect(lines.length).toBeGreaterThan(5);
      const haystack = [...lines, ...errors.map(errorTexts)].join('\n');
      for (const secret of secrets)
        expect(haystack.includes(secret), 'a secret leaked').toBe(false);
    },
  );
});
