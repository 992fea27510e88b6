/**
 * The fault-injection harness: a two-node world (simulator with the real hook,
 * embedded FTP server as the NAS, a relay in front of it for the tool's own FTP
 * connections) and runs of the BUILT CLI that are killed with SIGKILL at a
 * chosen API write or FTP write, then checked after the next run.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { walkTree } from '../../src/demo/tree.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import type { RecordedRequest } from '../../src/sim/scenario.js';
import type { CliResult } from '../e2e/support/cli.js';
import { jsonReport, startCli } from '../e2e/support/cli.js';
import { archives, DEMO_FTP_DIR, startWorld, type World } from '../e2e/support/world.js';
import { FTP_WRITE_VERBS, type FtpRelay, startFtpRelay, verbOf } from '../support/ftpRelay.js';

export const NODES = { pve1: [101, 102], pve2: [201, 202] } as const;
const KiB = 1024;

export interface FaultWorld {
  world: World;
  relay: FtpRelay;
  /** API writes (POST/PUT/DELETE) the simulator received, in order. */
  apiWrites(): RecordedRequest[];
  /** Write commands the tool sent over FTP (through the relay), in order. */
  ftpWrites(): string[];
  /** Arm a kill: SIGKILL the running CLI when the n-th (1-based) write of that kind arrives. */
  armKill(kind: 'api' | 'ftp', n: number): void;
  /** Forget an armed kill that the run never reached, so it cannot hit the next run. */
  disarm(): void;
  /** Start the CLI (`run --json`); the armed kill, if any, targets it. */
  start(extra?: string[]): ReturnType<typeof startCli>;
  run(extra?: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

/** A fresh world with two nodes of two running containers each. */
export async function faultWorld(o: { backupDurationMs?: number } = {}): Promise<FaultWorld> {
  const world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 3,
    backupDurationMs: o.backupDurationMs ?? 200,
    hookTuning: { retries: 1, retry_delay: 1, connect_timeout: 5, stall_timeout: 10 },
    nodes: Object.entries(NODES).map(([name, vmids]) => ({
      name,
      guests: vmids.map((vmid) => ({
        vmid,
        type: 'lxc' as const,
        name: `ct${vmid}`,
        status: 'running' as const,
        archiveSize: 64 * KiB + vmid,
      })),
    })),
  });
  let armed: { kind: 'api' | 'ftp'; n: number } | undefined;
  let child: ReturnType<typeof startCli>['child'] | undefined;
  let apiCount = 0;
  let ftpCount = 0;
  const kill = () => {
    armed = undefined;
    child?.kill('SIGKILL');
  };
  const relay = await startFtpRelay({ host: world.ftp.host, port: world.ftp.port }, (line) => {
    if (!FTP_WRITE_VERBS.has(verbOf(line))) return 'forward';
    ftpCount++;
    if (armed?.kind === 'ftp' && armed.n === ftpCount) {
      // Dies before this write reaches the NAS: the last thing the NAS saw was the one before.
      kill();
      return 'hold';
    }
    return 'forward';
  });
  // Only the tool goes through the relay; the nodes' hooks talk to the NAS directly.
  await world.writeConfig({ ftp: { port: relay.port } });
  const writes: RecordedRequest[] = [];
  const push = world.sim.requests.push.bind(world.sim.requests);
  world.sim.requests.push = (...records) => {
    for (const r of records) {
      if (r.method === 'GET') continue;
      // The record itself: the simulator fills in its body once it has read it.
      writes.push(r);
      apiCount++;
      // The request is already sent: the simulator carries it out, the tool never hears back.
      if (armed?.kind === 'api' && armed.n === apiCount) kill();
    }
    return push(...records);
  };
  const args = (extra: string[]) => ['run', '-c', world.configPath, '--json', ...extra];
  const opts = { env: world.env, cwd: world.tmp, timeoutMs: 120_000 };
  const start = (extra: string[] = []) => {
    const started = startCli(args(extra), opts);
    child = started.child;
    return started;
  };
  return {
    world,
    relay,
    apiWrites: () => [...writes],
    ftpWrites: () => relay.commands.filter((l) => FTP_WRITE_VERBS.has(verbOf(l))),
    disarm: () => {
      armed = undefined;
    },
    armKill: (kind, n) => {
      armed = { kind, n };
      apiCount = 0;
      ftpCount = 0;
    },
    start,
    run: (extra = []) => start(extra).done,
    close: async () => {
      await relay.close();
      await world.close();
    },
  };
}

/** Names the tool owns only while it works; none may be left after a run that ended. */
const TRANSIENT = /(\.pfb-tmp$|^\.trash-|^\.rotation\.json$|^\.lock$|^transfer$|\.part$)/;

export interface NasFile {
  path: string;
  size: number;
}

/** Every file under the NAS base dir (relative paths), with sizes. */
export async function nasFiles(world: World): Promise<NasFile[]> {
  const base = join(world.ftpRoot, DEMO_FTP_DIR);
  return (await walkTree(base))
    .filter((e) => e.type === 'file')
    .map((e) => ({ path: e.path, size: e.size ?? 0 }));
}

/** What must hold after the run that follows a killed one. */
export async function healedProblems(
  fw: FaultWorld,
  next: CliResult,
  o: { stoppedUploads?: boolean } = {},
): Promise<string[]> {
  const problems: string[] = [];
  if (next.code !== 0) problems.push(`next run exited ${next.code}: ${next.stderr.slice(-2000)}`);
  const report = next.stdout ? jsonReport<RunReport>(next) : undefined;
  const base = join(fw.world.ftpRoot, DEMO_FTP_DIR);
  for (const e of await walkTree(base)) {
    const name = e.path.split('/').pop() ?? '';
    if (TRANSIENT.test(name)) problems.push(`left on the NAS: ${e.path}`);
  }
  for (const [node, vmids] of Object.entries(NODES)) {
    const staged = archives(await readdir(fw.world.sim.dumpDir(node)).catch(() => []));
    // After SIGTERM a stopped task may leave a complete archive whose upload was cut: with no
    // NAS copy it must be kept (never deleted unverified) and reported by the next run.
    const reported = (name: string) =>
      o.stoppedUploads === true && report !== undefined && JSON.stringify(report).includes(name);
    const unreported = staged.filter((n) => !reported(n));
    if (unreported.length > 0) {
      problems.push(`${node}: staging still holds ${unreported.join(', ')} (not reported)`);
    }
    const manifest = await readManifest(fw.world, node, 'daily.0');
    if (!manifest) {
      problems.push(`${node}: no daily.0/manifest.json`);
      continue;
    }
    for (const vmid of vmids) {
      const g = manifest.guests.find((x) => x.vmid === vmid && x.status === 'saved');
      if (!g) problems.push(`${node}: guest ${vmid} not saved in daily.0`);
    }
  }
  if (report && report.exitCode !== 0) problems.push(`report exit ${report.exitCode}`);
  return problems;
}

interface ManifestLike {
  guests: { vmid: number; status: string; files: { name: string; size: number }[] }[];
}

export async function readManifest(
  world: World,
  node: string,
  gen: string,
): Promise<ManifestLike | undefined> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(
    join(world.ftpRoot, DEMO_FTP_DIR, node, gen, 'manifest.json'),
    'utf8',
  ).catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as ManifestLike);
}

/**
 * Archives that must survive: every archive file on the NAS (under its final name, not a
 * `.part`) or on a node's staging storage when the run was killed. Afterwards each must
 * still be on the NAS (same name and size) — retention with keep 3 removes nothing in two
 * nights — or, for a staging copy that never reached the NAS, still on the node.
 */
export async function archivesAt(world: World): Promise<{ nas: NasFile[]; staging: string[] }> {
  const nas = (await nasFiles(world)).filter(
    (f) => archives([f.path.split('/').pop() ?? '']).length > 0,
  );
  const staging: string[] = [];
  for (const node of Object.keys(NODES)) {
    for (const name of archives(await readdir(world.sim.dumpDir(node)).catch(() => []))) {
      staging.push(`${node}/${name}`);
    }
  }
  return { nas, staging };
}

export async function lostArchives(
  world: World,
  before: { nas: NasFile[]; staging: string[] },
): Promise<string[]> {
  const after = await archivesAt(world);
  const byName = new Map(after.nas.map((f) => [f.path.split('/').pop(), f.size]));
  const lost: string[] = [];
  for (const f of before.nas) {
    const name = f.path.split('/').pop();
    if (byName.get(name) !== f.size) lost.push(`NAS ${f.path} (${f.size} bytes)`);
  }
  for (const s of before.staging) {
    const name = s.split('/').pop();
    if (!byName.has(name) && !after.staging.includes(s)) lost.push(`staging ${s}`);
  }
  return lost;
}

/** Guests that got more than one vzdump POST among `writes` (the writes of one run). */
export function dumpedTwice(writes: RecordedRequest[]): string[] {
  const counts = new Map<string, number>();
  for (const w of writes) {
    if (w.method !== 'POST' || !/\/vzdump$/.test(w.path)) continue;
    const key = `${w.path} vmid ${String(w.body.vmid)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k}: ${n} POSTs`);
}
