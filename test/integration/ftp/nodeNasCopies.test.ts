/**
 * The NodeNas lookups for an earlier run's leftovers on real FTP servers:
 * findCopy (same name AND same size, transfer/ first, then generations newest
 * first) and recordInGeneration (the generation's manifest gains the guest,
 * written aside and renamed over, once).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FtpConfig } from '../../../src/config/index.js';
import { incompleteManifest, serializeManifest } from '../../../src/ftp/manifest.js';
import { silentLogger } from '../../../src/log.js';
import { ftpNodeNas } from '../../../src/orchestrator/ftpNodeNas.js';
import type { NodeNas } from '../../../src/orchestrator/nodeNas.js';
import { startFtpRelay } from '../../support/ftpRelay.js';
import { startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';
import { freshDir, modes, Sessions } from './helpers.js';

const A = 'vzdump-lxc-101-2026_11_30-02_00_05.tar.zst';

describe.each(modes())('leftover lookups on $label', ({ kind, tls }) => {
  let server: TestFtpServer;
  const sessions = new Sessions();
  const open: NodeNas[] = [];
  beforeAll(async () => {
    server = await startFtpServer(kind, { tls });
  });
  afterEach(() => {
    for (const n of open.splice(0)) n.close();
    sessions.closeAll();
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A node tree seeded with `{dir: {file: size}}`; returns the NodeNas and the tree's local path. */
  async function tree(dirs: Record<string, Record<string, number>>, port?: number) {
    const base = freshDir('copies');
    const local = join(server.root, base, 'pve1');
    for (const [dir, files] of Object.entries(dirs)) {
      await mkdir(join(local, dir), { recursive: true });
      for (const [name, size] of Object.entries(files)) {
        await writeFile(join(local, dir, name), Buffer.alloc(size, 1));
      }
    }
    const nas = await ftpNodeNas(
      {
        ftp: { dir: base } as FtpConfig,
        retention: { keep: 3 },
        runId: 'r1',
        logger: silentLogger(),
        startedAt: new Date(),
      },
      () => sessions.open(server, tls, port ? { settings: { port } } : {}),
    )('pve1');
    open.push(nas);
    return { nas, local };
  }

  it('finds the same name with the same size, transfer/ before the generations, newest first', async () => {
    const { nas } = await tree({
      transfer: { [A]: 99 },
      'daily.0': { [A]: 100 },
      'daily.10': { [A]: 100 },
      'daily.2': { [A]: 100 },
      'weekly.0': { [A]: 100 },
      'trash.x': { [A]: 100 },
    });
    expect(await nas.findCopy?.(A, 99)).toBe('transfer');
    expect(await nas.findCopy?.(A, 100)).toBe('daily.0');
    expect(await nas.findCopy?.(A, 101)).toBeUndefined();
    expect(await nas.findCopy?.('vzdump-lxc-102-2026_11_30-02_00_05.tar.zst', 100)).toBeUndefined();
  });

  it('looks in weekly/monthly generations when no daily one has it', async () => {
    const { nas } = await tree({ 'daily.0': {}, 'monthly.0': { [A]: 5 }, 'weekly.3': { [A]: 5 } });
    expect(await nas.findCopy?.(A, 5)).toBe('weekly.3');
  });

  it('adds the guest to the generation manifest once, leaving no temp file', async () => {
    const { nas, local } = await tree({ 'daily.1': { [A]: 100 } });
    const m = incompleteManifest({ runId: 'killed', node: 'pve1', at: '2026-11-30T02:00:00Z' });
    await writeFile(join(local, 'daily.1', 'manifest.json'), serializeManifest(m));
    const guest = {
      vmid: 101,
      type: 'lxc' as const,
      name: '',
      status: 'saved' as const,
      files: [{ name: A, size: 100 }],
    };
    await nas.recordInGeneration?.('daily.1', guest);
    await nas.recordInGeneration?.('daily.1', guest);
    const written = JSON.parse(await readFile(join(local, 'daily.1', 'manifest.json'), 'utf8'));
    expect(written.runId).toBe('killed');
    expect(written.guests).toEqual([guest]);
    expect((await readdir(join(local, 'daily.1'))).sort()).toEqual(['manifest.json', A]);
  });

  // The relay reads the control connection, which TLS hides: plain FTP only.
  if (!tls) {
    it('writes a generation manifest aside in the node dir, where healing looks', async () => {
      let cut = false;
      const relay = await startFtpRelay({ host: server.host, port: server.port }, (line) => {
        // The rename into place never arrives: a run killed between the two writes.
        if (line.startsWith('RNFR ')) {
          cut = true;
          return 'hold';
        }
        return 'forward';
      });
      try {
        const { nas, local } = await tree({ 'daily.1': { [A]: 100 } }, relay.port);
        const m = incompleteManifest({ runId: 'killed', node: 'pve1', at: '2026-11-30T02:00:00Z' });
        await writeFile(join(local, 'daily.1', 'manifest.json'), serializeManifest(m));
        const recording = nas.recordInGeneration?.('daily.1', {
          vmid: 101,
          type: 'lxc' as const,
          name: '',
          status: 'saved' as const,
          files: [{ name: A, size: 100 }],
        });
        await vi.waitFor(() => expect(cut).toBe(true), { timeout: 10_000 });
        void recording?.catch(() => undefined);
        // The generation holds only what it held; the half-done write is in the node dir.
        expect((await readdir(join(local, 'daily.1'))).sort()).toEqual(['manifest.json', A]);
        expect(await readdir(local)).toContain('.daily.1-manifest.json.pfb-tmp');
      } finally {
        for (const n of open.splice(0)) n.close();
        await relay.close();
      }
    });
  }

  it('refuses a generation without a manifest (the caller keeps the node copy)', async () => {
    const { nas } = await tree({ 'daily.1': { [A]: 100 } });
    await expect(
      nas.recordInGeneration?.('daily.1', {
        vmid: 101,
        type: 'lxc',
        name: '',
        status: 'saved',
        files: [{ name: A, size: 100 }],
      }),
    ).rejects.toThrow(/manifest.json is missing/);
  });
});
