import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPveClient, PveTlsError } from '../../../src/pveApi/index.js';
import type { PveSimulator } from '../../../src/sim/index.js';
import { captureLogger, clientFor, start } from './support.js';

let sim: PveSimulator;
beforeAll(async () => {
  sim = await start('8.4');
});
afterAll(async () => {
  await sim?.close();
});

function flip(fp: string): string {
  const last = fp.slice(-1);
  return fp.slice(0, -1) + (last === '0' ? '1' : '0');
}

describe('TLS trust', () => {
  it('accepts the pinned fingerprint, in any case, on every new connection', async () => {
    const before = sim.requests.length;
    const client = clientFor(sim, 'token', { tls: { fingerprint: sim.fingerprint.toLowerCase() } });
    try {
      expect((await client.version()).major).toBe(8);
      // a lost answer kills the connection: the retry needs a new one, checked again
      sim.addFault({ method: 'GET', path: '/nodes', status: 200, count: 1, kind: 'drop-answer' });
      expect(await client.nodes()).toHaveLength(2);
    } finally {
      await client.close();
    }
    expect(sim.requests.length - before).toBe(3);
  });

  it('refuses a mismatching fingerprint before any request byte is sent', async () => {
    const before = sim.requests.length;
    const client = clientFor(sim, 'token', { tls: { fingerprint: flip(sim.fingerprint) } });
    try {
      const err = await client.nodes().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PveTlsError);
      expect((err as PveTlsError).code).toBe('PVE_TLS_FINGERPRINT_MISMATCH');
      expect((err as PveTlsError).message).toContain(sim.fingerprint);
      // not retried as a network error either
      const again = await client
        .startVzdump('pve1', { vmid: 101, storage: 'ftp-staging' })
        .catch((e: unknown) => e);
      expect(again).toBeInstanceOf(PveTlsError);
    } finally {
      await client.close();
    }
    expect(sim.requests.length).toBe(before);
  });

  it('trusts a custom CA (caPem)', async () => {
    const client = clientFor(sim, 'token', { tls: { caPem: sim.caCertPem } });
    try {
      expect((await client.version()).major).toBe(8);
    } finally {
      await client.close();
    }
  });

  it('with the system CAs only, the per-cluster CA is untrusted: PveTlsError, no request', async () => {
    const before = sim.requests.length;
    const client = clientFor(sim, 'token', { tls: {} });
    try {
      const err = await client.version().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PveTlsError);
      expect((err as PveTlsError).message).toMatch(/not trusted/);
    } finally {
      await client.close();
    }
    expect(sim.requests.length).toBe(before);
  });

  it('insecure works only when asked for, and says so in a warning', async () => {
    const { logger, lines } = captureLogger();
    const client = clientFor(sim, 'token', { tls: { insecure: true }, logger });
    try {
      expect((await client.version()).major).toBe(8);
    } finally {
      await client.close();
    }
    const warnings = lines.map((l) => JSON.parse(l) as { level: string; message: string });
    expect(
      warnings.some((w) => w.level === 'warn' && /verification is disabled/.test(w.message)),
    ).toBe(true);
  });

  it('refuses a malformed fingerprint and a non-https URL at construction', () => {
    const { logger } = captureLogger();
    const base = {
      cluster: 'c',
      auth: { kind: 'token' as const, tokenId: 'a@pve!b', secret: 'x' },
      logger,
    };
    expect(() =>
      createPveClient({ ...base, baseUrl: sim.url, tls: { fingerprint: 'AB:CD' } }),
    ).toThrow(/fingerprint/);
    expect(() => createPveClient({ ...base, baseUrl: sim.url.replace('https', 'http') })).toThrow(
      /https/,
    );
  });
});
