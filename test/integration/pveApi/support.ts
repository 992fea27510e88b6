/**
 * Helpers for the PVE client integration tests: a simulator per test with a
 * small two-node cluster, a client wired to it with tiny retry delays, and a
 * winston logger whose every line is captured (to prove no secret is logged).
 */
import { Writable } from 'node:stream';
import winston from 'winston';
import {
  createPveClient,
  type PveClient,
  type PveClientOptions,
} from '../../../src/pveApi/index.js';
import { type PveSimulator, type SimOptions, startSimulator } from '../../../src/sim/index.js';
import type { SimFlavour } from '../../../src/sim/scenario.js';

export const TOKEN = { id: 'backup@pve!nightly', secret: '6f1c2d3e-0000-4a5b-9c8d-7e6f5a4b3c2d' };
export const USER = { userid: 'backup@pve', password: 'correct horse battery staple' };

/** Container type per flavour: OpenVZ on 3.x, LXC after. */
export function ctType(flavour: SimFlavour): 'openvz' | 'lxc' {
  return flavour === '3.4' ? 'openvz' : 'lxc';
}

/** A two-node cluster: pve1 holds 101 (running CT), 102 (stopped CT), 200 (VM); pve2 holds 301. */
export function scenario(flavour: SimFlavour, extra: Partial<SimOptions> = {}): SimOptions {
  const ct = ctType(flavour);
  return {
    flavour,
    nodes: [
      {
        name: 'pve1',
        guests: [
          { vmid: 101, type: ct, name: 'web', status: 'running', archiveSize: 4096 },
          {
            vmid: 102,
            type: ct,
            name: 'db',
            status: 'stopped',
            archiveSize: 2048,
            lock: 'snapshot',
          },
          { vmid: 200, type: 'qemu', name: 'vm', status: 'running', archiveSize: 8192 },
        ],
      },
      {
        name: 'pve2',
        guests: [{ vmid: 301, type: ct, name: 'mail', status: 'running', archiveSize: 1024 }],
      },
    ],
    users: [USER],
    tokens: flavour === '3.4' ? [] : [TOKEN],
    authFailureDelayMs: 0,
    backupDurationMs: 300,
    ...extra,
  };
}

/** Captures every log line a winston logger writes. */
export function captureLogger(): { logger: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

export type ClientAuth = 'token' | 'ticket';

/** A client for the simulator, pinned to its fingerprint, with tiny retry delays. */
export function clientFor(
  sim: PveSimulator,
  auth: ClientAuth,
  overrides: Partial<PveClientOptions> = {},
): PveClient {
  return createPveClient({
    cluster: 'testcl',
    baseUrl: sim.url,
    auth:
      auth === 'token'
        ? { kind: 'token', tokenId: TOKEN.id, secret: TOKEN.secret }
        : { kind: 'ticket', username: USER.userid, password: USER.password },
    tls: { fingerprint: sim.fingerprint },
    logger: captureLogger().logger,
    retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
    timeouts: { connectMs: 2000, headersMs: 5000, bodyMs: 5000 },
    ...overrides,
  });
}

/** Starts a simulator and registers nothing global; callers close it in afterEach. */
export function start(flavour: SimFlavour, extra: Partial<SimOptions> = {}): Promise<PveSimulator> {
  return startSimulator(scenario(flavour, extra));
}

/** Polls a task until it stopped (bounded: 200 polls, 20 s). */
export async function waitStopped(client: PveClient, node: string, upid: string) {
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    const s = await client.taskStatus(node, upid);
    if (s.status === 'stopped') return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${upid} did not stop in time`);
}

/** Every text an error exposes: messages and stacks along the cause chain. */
export function errorTexts(err: unknown): string {
  const out: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 10 && e; i++) {
    if (e instanceof Error) out.push(e.message, e.stack ?? '');
    else out.push(String(e));
    e = (e as { cause?: unknown }).cause;
  }
  return out.join('\n');
}
