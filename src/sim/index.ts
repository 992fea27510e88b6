/**
 * The simulator entry point: a fake Proxmox VE API over HTTPS on 127.0.0.1,
 * faithful to docs/pve-facts.md (see flavours.ts for what differs per
 * release). Used by the client tests, hook tests, end-to-end tests and demo.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimAuth } from './auth.js';
import { generateCerts } from './certs.js';
import { ClusterState } from './cluster.js';
import { FaultPlan } from './faults.js';
import { FLAVOURS } from './flavours.js';
import { writePvesmStub } from './pvesmStub.js';
import { accessRoutes } from './routesAccess.js';
import { infoRoutes } from './routesInfo.js';
import { restoreRoutes } from './routesRestore.js';
import { storageRoutes } from './routesStorage.js';
import { storageConfigRoutes } from './routesStorageConfig.js';
import { taskRoutes } from './routesTasks.js';
import { vzdumpRoutes } from './routesVzdump.js';
import type { RecordedRequest, SimGuest, SimHttpFault, SimOptions } from './scenario.js';
import { createHandler } from './server.js';

export type * from './scenario.js';
export type * from './scenarioAccess.js';

export interface PveSimulator {
  /** `https://127.0.0.1:<port>` (no /api2/json). */
  readonly url: string;
  readonly port: number;
  /** CA that signed the server certificate (for "custom CA" tests). */
  readonly caCertPem: string;
  /** The server certificate. */
  readonly certPem: string;
  /** SHA-256 of the server cert DER, colon-hex upper-case, as the PVE GUI shows it. */
  readonly fingerprint: string;
  /** Every request, in order (secrets included: tests only). */
  readonly requests: RecordedRequest[];
  /** The node's dump dir where vzdump writes archives. */
  dumpDir(node: string): string;
  /**
   * A `pvesm` stand-in for `node` (only `pvesm path STORAGE:backup/FILE`, answered with the
   * node's dump dir), for running the hook's `fetch` as an admin would on that node.
   */
  pvesm(node: string): Promise<string>;
  /** Where a guest lives now, with its state and (once restored) its config. */
  guest(vmid: number): { node: string; guest: SimGuest } | undefined;
  addFault(fault: SimHttpFault): void;
  setNodeOnline(node: string, online: boolean): void;
  /** vzdump tasks started so far, with their UPIDs, vmids, node and state. */
  tasks(): { upid: string; node: string; vmids: number[]; running: boolean; exitstatus?: string }[];
  /** Resolves when no task is running. */
  idle(): Promise<void>;
  /** Stops the server, kills running hooks, removes temp dirs it created. */
  close(): Promise<void>;
}

/** Starts a simulated PVE cluster on 127.0.0.1, port chosen by the OS. */
export async function startSimulator(options: SimOptions): Promise<PveSimulator> {
  const flavour = FLAVOURS[options.flavour];
  if (!flavour) throw new Error(`unknown simulator flavour '${options.flavour}'`);
  const certs = await generateCerts();
  const ownTmp = options.dumpRoot ? undefined : await mkdtemp(path.join(tmpdir(), 'pve-sim-'));
  const state = new ClusterState(options, flavour, options.dumpRoot ?? ownTmp!);
  // Dump dirs exist from the start, like /var/lib/vz/dump on a node.
  for (const n of state.nodes.values()) await mkdir(n.dumpDir, { recursive: true });
  const auth = new SimAuth(
    flavour,
    options.users ?? [],
    options.tokens ?? [],
    options.ticketLifetimeSec ?? 7200,
    options.clusterName ?? 'sim',
  );
  const faults = new FaultPlan(options.faults?.http ?? [], options.faults?.slow ?? []);
  const requests: RecordedRequest[] = [];
  const closing = new AbortController();
  const handler = createHandler({
    state,
    auth,
    faults,
    routes: [
      ...infoRoutes(certs.fingerprint),
      ...taskRoutes(),
      ...storageRoutes(),
      ...vzdumpRoutes(),
      ...accessRoutes(),
      ...storageConfigRoutes(),
      ...restoreRoutes(),
    ],
    requests,
    authFailureDelayMs: options.authFailureDelayMs ?? 3000,
    signal: closing.signal,
  });
  const server = createServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => {
    // The handler answers every error itself; anything escaping is a simulator bug: drop the connection.
    handler(req, res).catch(() => res.destroy());
  });
  // pveproxy drops idle keep-alive connections after 5 s.
  server.keepAliveTimeout = 5000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const vzdumpTasks = () => state.tasks.all().filter((t) => t.parts.type === 'vzdump');

  return {
    url: `https://${host}:${port}`,
    port,
    caCertPem: certs.caCertPem,
    certPem: certs.certPem,
    fingerprint: certs.fingerprint,
    requests,
    dumpDir(node) {
      const n = state.nodes.get(node);
      if (!n) throw new Error(`no simulated node '${node}'`);
      return n.dumpDir;
    },
    async pvesm(node) {
      const n = state.nodes.get(node);
      if (!n) throw new Error(`no simulated node '${node}'`);
      return writePvesmStub(n);
    },
    guest(vmid) {
      const found = state.findGuest(vmid);
      return found ? { node: found.node.name, guest: { ...found.guest } } : undefined;
    },
    addFault: (fault) => faults.add(fault),
    setNodeOnline(node, online) {
      const n = state.nodes.get(node);
      if (!n) throw new Error(`no simulated node '${node}'`);
      n.online = online;
    },
    tasks: () =>
      vzdumpTasks().map((t) => ({
        upid: t.upid,
        node: t.parts.node,
        vmids: [...t.vmids],
        running: t.running,
        ...(t.exitstatus !== undefined ? { exitstatus: t.exitstatus } : {}),
      })),
    async idle() {
      // Tasks can start while we wait: loop until a pass finds none running (bounded).
      for (let i = 0; i < 1000; i++) {
        const running = state.tasks.all().filter((t) => t.running);
        if (running.length === 0) return;
        await Promise.all(running.map((t) => t.done));
      }
    },
    async close() {
      closing.abort();
      for (const t of state.tasks.all()) if (t.running) t.stop?.();
      await Promise.race([
        Promise.all(state.tasks.all().map((t) => t.done)),
        new Promise((r) => setTimeout(r, 7000).unref()),
      ]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownTmp) await rm(ownTmp, { recursive: true, force: true });
    },
  };
}
