/**
 * Rotation over a real FTP session against the servers of ftpServerKinds():
 * a keep=3 sequence of four runs, a rotation killed after each step and healed
 * by the next run, and what a keep=10 rotation costs in FTP commands (also with a
 * killed night's adopted leftover among the generations: issue #8 §7), and what healing
 * our temp names inside the generations costs (issue #8 §5).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listGenerations } from '../../../src/ftp/generations.js';
import { incompleteManifest, type Manifest, serializeManifest } from '../../../src/ftp/manifest.js';
import type { RemoteFs } from '../../../src/ftp/remoteFs.js';
import { finishNodeRun, prepareNodeTree } from '../../../src/ftp/rotation/nodeTree.js';
import { type NasSession, openNasSession } from '../../../src/ftp/session.js';
import { silentLogger } from '../../../src/log.js';
import { Killed, killAfter, localTree } from '../../support/ftpKill.js';
import {
  ftpServerKinds,
  plainSettings,
  startFtpServer,
  type TestFtpServer,
} from '../../support/ftpServers.js';

const logger = silentLogger();

function manifest(runId: string, vmids: number[]): Manifest {
  return {
    version: 1,
    runId,
    node: 'pve1',
    cluster: 'home',
    pveVersion: '8.2.4',
    startedAt: '2026-11-30T02:00:00Z',
    finishedAt: '2026-11-30T02:10:00Z',
    guests: vmids.map((vmid) => ({
      vmid,
      type: 'lxc' as const,
      name: `ct${vmid}`,
      status: 'saved' as const,
      files: [{ name: `vzdump-lxc-${vmid}-${runId}.tar.zst`, size: `${runId}/${vmid}`.length }],
    })),
  };
}

/** Upload tonight's archives over FTP, as the hook would. */
async function upload(fs: RemoteFs, nodeDir: string, m: Manifest): Promise<void> {
  await fs.mkdirp(`${nodeDir}/transfer`);
  for (const g of m.guests) {
    for (const f of g.files)
      await fs.writeText(`${nodeDir}/transfer/${f.name}`, `${m.runId}/${g.vmid}`);
  }
}

/** A loopback TCP relay in front of the control port that counts the commands the client sends. */
async function commandCounter(target: { host: string; port: number }) {
  let commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let pending = '';
    client.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      commands.push(...lines.map((l) => l.split(' ')[0]!.toUpperCase()));
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    take: () => {
      const c = commands;
      commands = [];
      return c;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe.each(ftpServerKinds())('rotation over FTP (%s)', (kind) => {
  let server: TestFtpServer;
  let session: NasSession;

  beforeAll(async () => {
    server = await startFtpServer(kind);
    session = await openNasSession(plainSettings(server), logger);
  });
  afterAll(async () => {
    session?.close();
    await server?.close();
  });

  it('keeps the three newest of four runs, renumbered, with manifests', async () => {
    const nodeDir = '/seq/pve1';
    for (let n = 1; n <= 4; n++) {
      await prepareNodeTree(session, nodeDir, { keep: 3, logger, runId: `prep${n}` });
      const m = manifest(`run${n}`, [101, 102]);
      await upload(session, nodeDir, m);
      const r = await finishNodeRun(session, nodeDir, m, { keep: 3, rotate: true, logger });
      expect(r.outcome).toBe('rotated');
      expect(r.removed).toEqual(n === 4 ? ['daily.2'] : []);
    }
    const local = await localTree(join(server.root, 'seq/pve1'));
    expect(
      Object.keys(local)
        .filter((p) => !p.includes('/'))
        .sort(),
    ).toEqual(['daily.0', 'daily.1', 'daily.2']);
    expect(local['daily.0/vzdump-lxc-101-run4.tar.zst']).toBe('run4/101');
    expect(local['daily.2/vzdump-lxc-102-run2.tar.zst']).toBe('run2/102');
    const gens = await listGenerations(session, nodeDir);
    expect(gens.map((g) => [g.name, g.manifest?.runId, g.files.length, g.incomplete])).toEqual([
      ['daily.0', 'run4', 2, false],
      ['daily.1', 'run3', 2, false],
      ['daily.2', 'run2', 2, false],
    ]);
  });

  it('a rotation killed after any step is healed by the next run', async () => {
    const seed = async (nodeDir: string) => {
      for (let i = 0; i < 3; i++) {
        const m = manifest(`old${i}`, [101]);
        const dir = join(server.root, nodeDir, `daily.${i}`);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'manifest.json'), serializeManifest(m));
        await writeFile(join(dir, m.guests[0]!.files[0]!.name), `old${i}/101`);
      }
      await upload(session, `/${nodeDir}`, manifest('tonight', [101]));
    };
    const tonight = manifest('tonight', [101]);
    await seed('crash/ref');
    await finishNodeRun(session, '/crash/ref', tonight, { keep: 3, rotate: true, logger });
    const reference = await localTree(join(server.root, 'crash/ref'));

    // 8 mutating calls: manifest, journal, trash rename, 2 shifts, transfer, journal drop, trash.
    for (let k = 1; k < 8; k++) {
      const nodeDir = `crash/k${k}`;
      await seed(nodeDir);
      await expect(
        finishNodeRun(killAfter(session, k), `/${nodeDir}`, tonight, {
          keep: 3,
          rotate: true,
          logger,
        }),
      ).rejects.toBeInstanceOf(Killed);
      await prepareNodeTree(session, `/${nodeDir}`, { keep: 3, logger, runId: 'heal' });
      expect(await localTree(join(server.root, nodeDir)), `killed after ${k}`).toEqual(reference);
    }
  });

  it('counts the FTP commands of a keep=10 rotation with 20 files per generation', async () => {
    const nodeDir = 'cost/pve1';
    const vmids = Array.from({ length: 20 }, (_, i) => 100 + i);
    for (let i = 0; i < 10; i++) {
      const m = manifest(`old${i}`, vmids);
      const dir = join(server.root, nodeDir, `daily.${i}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'manifest.json'), serializeManifest(m));
      for (const g of m.guests) await writeFile(join(dir, g.files[0]!.name), `old${i}/${g.vmid}`);
    }
    const tonight = manifest('tonight', vmids);
    const transfer = join(server.root, nodeDir, 'transfer');
    await mkdir(transfer, { recursive: true });
    for (const g of tonight.guests) await writeFile(join(transfer, g.files[0]!.name), `x`);

    const counter = await commandCounter(server);
    const counted = await openNasSession(plainSettings(server, counter.port), logger);
    try {
      counter.take(); // login
      await finishNodeRun(counted, `/${nodeDir}`, tonight, { keep: 10, rotate: true, logger });
      const commands = counter.take();
      const byVerb: Record<string, number> = {};
      for (const c of commands) byVerb[c] = (byVerb[c] ?? 0) + 1;
      // 20 DELE of the removed generation's archives + its manifest, 11 renames (RNFR+RNTO), …
      expect(byVerb.DELE).toBeGreaterThanOrEqual(21);
      expect(byVerb.RNFR).toBeGreaterThanOrEqual(11);
      expect(commands.length).toBeLessThan(120);
      process.stdout.write(
        `[rotation cost ${kind}] keep=10, 20 files/generation: ${commands.length} FTP commands ${JSON.stringify(byVerb)}\n`,
      );
    } finally {
      counted.close();
      await counter.close();
    }
    const top = (await readdir(join(server.root, nodeDir))).sort();
    expect(top).toEqual(Array.from({ length: 10 }, (_, i) => `daily.${i}`).sort());
  });

  it('an adopted leftover does not count toward keep, goes once its guests are saved anew, and costs one RETR per generation', async () => {
    // A killed night's leftover (incomplete, nothing saved) sits at daily.3 among ten good
    // generations. Counting it toward keep=10 would rotate the oldest good one (daily.10) away
    // while the leftover stays; not counting it keeps ten good nights.
    const nodeDir = 'adopted/pve1';
    const vmids = [100, 101];
    for (let i = 0; i <= 10; i++) {
      const dir = join(server.root, nodeDir, `daily.${i}`);
      await mkdir(dir, { recursive: true });
      const m =
        i === 3
          ? incompleteManifest({
              runId: 'killed',
              node: 'pve1',
              at: '2026-11-27T02:30:00Z',
              files: vmids.map((v) => ({ name: `vzdump-lxc-${v}-killed.tar.zst`, size: 1 })),
            })
          : manifest(`night${i}`, vmids);
      await writeFile(join(dir, 'manifest.json'), serializeManifest(m));
      for (const g of m.guests) await writeFile(join(dir, g.files[0]!.name), 'x');
    }
    const tonight = manifest('tonight', vmids);
    const transfer = join(server.root, nodeDir, 'transfer');
    await mkdir(transfer, { recursive: true });
    for (const g of tonight.guests) await writeFile(join(transfer, g.files[0]!.name), 'x');

    const counter = await commandCounter(server);
    const counted = await openNasSession(plainSettings(server, counter.port), logger);
    try {
      counter.take(); // login
      const report = await finishNodeRun(counted, `/${nodeDir}`, tonight, {
        keep: 10,
        rotate: true,
        logger,
      });
      const commands = counter.take();
      const retr = commands.filter((c) => c === 'RETR').length;
      // One manifest per generation present (11), none twice; tonight's is in memory.
      expect(retr).toBe(11);
      expect(commands.length).toBeLessThan(120);
      expect(report.removed.sort()).toEqual(['daily.10', 'daily.3']);
      process.stdout.write(
        `[rotation cost ${kind}] keep=10 with an adopted leftover: ${commands.length} FTP commands, ${retr} RETR\n`,
      );
    } finally {
      counted.close();
      await counter.close();
    }
    const top = (await readdir(join(server.root, nodeDir))).sort();
    expect(top).toEqual(Array.from({ length: 10 }, (_, i) => `daily.${i}`).sort());
    // daily.4 is night4 (it was daily.4 and one newer generation entered while daily.3 left).
    const moved = await readFile(join(server.root, nodeDir, 'daily.4', 'manifest.json'), 'utf8');
    expect(JSON.parse(moved).runId).toBe('night4');
    const last = await readFile(join(server.root, nodeDir, 'daily.9', 'manifest.json'), 'utf8');
    expect(JSON.parse(last).runId).toBe('night9');
  });

  it('healing finds our temp names with two listings however many generations (issue #8 §5, #11)', async () => {
    // A manifest record cut short in transfer/ and one of a generation, which is written
    // aside in the node dir; ten generations that healing need not list.
    const nodeDir = 'temps/pve1';
    for (let i = 0; i < 10; i++) {
      const dir = join(server.root, nodeDir, `daily.${i}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'manifest.json'), serializeManifest(manifest(`night${i}`, [100])));
    }
    await mkdir(join(server.root, nodeDir, 'transfer'));
    await writeFile(join(server.root, nodeDir, 'transfer', 'vzdump-lxc-100-x.tar.zst'), 'x');
    await writeFile(join(server.root, nodeDir, 'transfer', '.manifest.json.pfb-tmp'), '{"ver');
    await writeFile(join(server.root, nodeDir, '.daily.1-manifest.json.pfb-tmp'), '{"ver');

    const counter = await commandCounter(server);
    const counted = await openNasSession(plainSettings(server, counter.port), logger);
    try {
      counter.take(); // login
      const report = await prepareNodeTree(counted, `/${nodeDir}`, { keep: 10, logger });
      const commands = counter.take();
      const lists = commands.filter((c) => c === 'LIST' || c === 'MLSD').length;
      // The node directory and transfer/ (adopted); the generations only for rotation's
      // manifests, which are read, not listed.
      expect(lists).toBe(2);
      expect(report.repairs).toEqual(
        expect.arrayContaining([
          'removed leftover .daily.1-manifest.json.pfb-tmp',
          'removed leftover transfer/.manifest.json.pfb-tmp',
        ]),
      );
      process.stdout.write(
        `[heal cost ${kind}] 10 generations, 2 temp leftovers, transfer adopted: ${commands.length} FTP commands, ${lists} listings\n`,
      );
    } finally {
      counted.close();
      await counter.close();
    }
    const top = await readdir(join(server.root, nodeDir));
    expect(top.filter((n) => n.endsWith('.pfb-tmp'))).toEqual([]);
    expect(await readdir(join(server.root, nodeDir, 'daily.0'))).not.toContain(
      '.manifest.json.pfb-tmp',
    );
  });
});
