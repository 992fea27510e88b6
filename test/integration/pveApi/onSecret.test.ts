/**
 * The PVE client reports every secret it comes to use through its `onSecret`
 * option (the caller's log redaction learns tickets and CSRF tokens that way;
 * the client itself imports no app logging).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PveClient } from '../../../src/pveApi/index.js';
import type { PveSimulator } from '../../../src/sim/index.js';
import { clientFor, start, TOKEN, USER } from './support.js';

let sim: PveSimulator | undefined;
let client: PveClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await sim?.close();
  sim = undefined;
});

describe('onSecret', () => {
  it('ticket auth: the password at once, then every ticket and CSRF token the API hands out', async () => {
    sim = await start('8.4');
    const told: string[] = [];
    // Renewed after 1 ms: the second call gets a new ticket and CSRF token, which must be told too.
    client = clientFor(sim, 'ticket', { onSecret: (s) => told.push(s), ticketRenewAfterMs: 1 });
    expect(told).toEqual([USER.password]);
    await client.version();
    // A ticket carries its time in whole seconds: wait for the next one so the new ticket differs.
    await new Promise((r) => setTimeout(r, 1100));
    await client.nodes();
    const inUse = client.secrets();
    expect(inUse.length).toBeGreaterThanOrEqual(3);
    for (const s of inUse) expect(told).toContain(s);
    const tickets = told.filter((s) => s.startsWith('PVE:'));
    expect(new Set(tickets).size).toBeGreaterThanOrEqual(2);
  });

  it('token auth: the token secret, once', async () => {
    sim = await start('8.4');
    const told: string[] = [];
    client = clientFor(sim, 'token', { onSecret: (s) => told.push(s) });
    await client.version();
    expect(told).toEqual([TOKEN.secret]);
  });
});
