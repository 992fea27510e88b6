/**
 * The mutable state of a simulated cluster: nodes, guests (with the config
 * lock vzdump sets), storages, dump directories, tasks and node locks. Copied
 * from the scenario so a test's objects are never mutated.
 */
import path from 'node:path';
import type { FlavourTraits } from './flavours.js';
import type { SimGuest, SimNode, SimOptions, SimStorage } from './scenario.js';
import { TaskStore } from './tasks.js';

export interface NodeState {
  name: string;
  online: boolean;
  guests: SimGuest[];
  storages: SimStorage[];
  script?: string;
  hookEnv: Record<string, string>;
  dumpDir: string;
  /** Tail of the node-global vzdump lock queue (`/var/run/vzdump.lock`). */
  lockTail: Promise<void>;
  /** Jobs holding or waiting for the lock. */
  lockUsers: number;
}

const DEFAULT_STORAGES: SimStorage[] = [
  { id: 'local', backup: true },
  { id: 'ftp-staging', backup: true },
];

export class ClusterState {
  readonly nodes = new Map<string, NodeState>();
  readonly tasks = new TaskStore();

  constructor(
    readonly options: SimOptions,
    readonly flavour: FlavourTraits,
    dumpRoot: string,
  ) {
    for (const n of options.nodes) this.nodes.set(n.name, this.#nodeState(n, dumpRoot));
  }

  #nodeState(n: SimNode, dumpRoot: string): NodeState {
    return {
      name: n.name,
      online: n.online ?? true,
      guests: n.guests.map((g) => ({ ...g })),
      storages: (n.storages ?? DEFAULT_STORAGES).map((s) => ({ ...s })),
      script: n.vzdumpConf?.script,
      hookEnv: { ...(n.hookEnv ?? {}) },
      dumpDir: path.join(dumpRoot, n.name, 'dump'),
      lockTail: Promise.resolve(),
      lockUsers: 0,
    };
  }

  /** Guest types the flavour knows (containers are OpenVZ on 3.x, LXC after). */
  visible(g: SimGuest): boolean {
    return g.type === 'qemu' || g.type === this.flavour.containerType;
  }

  findGuest(vmid: number): { node: NodeState; guest: SimGuest } | undefined {
    for (const node of this.nodes.values()) {
      const guest = node.guests.find((g) => g.vmid === vmid && this.visible(g));
      if (guest) return { node, guest };
    }
    return undefined;
  }

  backupDurationMs(guest: SimGuest): number {
    const d = this.options.backupDurationMs ?? 200;
    return typeof d === 'function' ? d(guest) : d;
  }
}

/** The guest name vzdump uses for HOSTNAME when none is configured. */
export function guestName(g: SimGuest): string {
  return g.name ?? (g.type === 'qemu' ? `VM${g.vmid}` : `CT${g.vmid}`);
}
