/**
 * The endpoints the tool uses, on top of ApiCaller. Version differences handled
 * here: `/version` meaning (major = leading integer), task list parameters
 * (`source`/`typefilter` only from PVE 5), vzdump UPIDs without a vmid before
 * 5.3-8, DELETE of a backup answering a UPID (>= 6.0) or null.
 */
import { z } from 'zod';
import type { Logger } from '../log.js';
import { ApiCaller } from './apiCall.js';
import { createAuth } from './auth.js';
import { PveApiError } from './errors.js';
import { apiPath, type Params } from './http.js';
import { escapeForLog, isNodeName, isStorageId, parseBackupVolid, showValue } from './names.js';
import { defaultRetryPolicy, isNotSentError, isRetryable, type RetryPolicy } from './retry.js';
import {
  BackupVolumes,
  DeleteVolumeAnswer,
  Guests,
  Nodes,
  Resources,
  TaskLog,
  TaskStatus,
  Tasks,
  Version,
  VzdumpAnswer,
} from './schemas.js';
import { createTransport } from './transport.js';
import type {
  GuestType,
  PveClient,
  PveClientOptions,
  PveVersion,
  RestoreParams,
  VzdumpParams,
} from './types.js';
import { isUpid, parseUpid } from './upid.js';
import { findLostVzdump, isLostAnswer } from './vzdumpRecovery.js';

const GUEST_TYPES: readonly GuestType[] = ['openvz', 'lxc', 'qemu'];

/**
 * Creates the client of one cluster: one auth state, and one undici Agent of its own built
 * from `tls`/`timeouts` unless the caller passes a `dispatcher` (a shared Agent, a proxy
 * agent, a MockAgent), as undici-based clients such as octokit allow.
 */
export function createPveClient(options: PveClientOptions): PveClient {
  const origin = originOf(options.baseUrl);
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  // A dispatcher passed in belongs to the caller (who closes it); our own Agent is ours to close.
  const own = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    createTransport({
      cluster: options.cluster,
      logger: options.logger,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    });
  let core: ApiCaller;
  const auth = createAuth(options.auth, (form, signal) => core.sendTicket(form, signal), {
    // The caller's redaction learns each secret the moment it is in use (tickets change on renewal).
    onSecrets: (secrets) => {
      for (const s of secrets) options.onSecret?.(s);
    },
    ...(options.ticketRenewAfterMs !== undefined
      ? { renewAfterMs: options.ticketRenewAfterMs }
      : {}),
  });
  core = new ApiCaller(options.cluster, origin, dispatcher, auth, policy, options.logger);
  return new Client(core, options.logger, policy, async () => {
    if (own) await dispatcher.close();
  });
}

/** Accepts `https://host:port` (optionally with a trailing `/` or `/api2/json`); returns the origin. */
function originOf(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.protocol !== 'https:') throw new TypeError('PVE API URL must use https://');
  return url.origin;
}

class Client implements PveClient {
  readonly cluster: string;
  #major: number | undefined;

  constructor(
    private readonly core: ApiCaller,
    private readonly logger: Logger,
    private readonly policy: RetryPolicy,
    private readonly closeTransport: () => Promise<void>,
  ) {
    this.cluster = core.cluster;
  }

  async version(signal?: AbortSignal): Promise<PveVersion> {
    const { data } = await this.core.call('GET', '/version', Version, { signal });
    const major = Number.parseInt(/^\s*(\d+)/.exec(data.version)?.[1] ?? '', 10);
    if (!Number.isFinite(major)) {
      throw new PveApiError({
        cluster: this.cluster,
        method: 'GET',
        path: '/version',
        status: 200,
        pveMessage: `unexpected version ${JSON.stringify(data.version)}`,
      });
    }
    this.#major = major;
    return { version: data.version, release: data.release ?? '', major };
  }

  async nodes(signal?: AbortSignal) {
    const { data } = await this.core.call('GET', '/nodes', Nodes, { signal });
    return data.map((n) => ({ node: n.node, status: n.status }));
  }

  async clusterResources(signal?: AbortSignal) {
    const { data } = await this.core.call('GET', '/cluster/resources', Resources, {
      signal,
      query: { type: 'vm' },
    });
    const rows: {
      vmid: number;
      node: string;
      type: GuestType;
      status?: string;
      name?: string;
      template: boolean;
    }[] = [];
    for (const r of data) {
      // Older servers may ignore `type=vm`; keep guest rows only.
      if (!isGuestType(r.type) || r.vmid === undefined || !r.node) continue;
      rows.push({
        vmid: r.vmid,
        node: r.node,
        type: r.type,
        template: r.template ?? false,
        ...(r.status ? { status: r.status } : {}),
        ...(r.name ? { name: r.name } : {}),
      });
    }
    return rows;
  }

  async listGuests(node: string, type: GuestType, signal?: AbortSignal) {
    checkNode(node);
    const { data } = await this.core.call('GET', apiPath('nodes', node, type), Guests, { signal });
    return data.map((g) => ({
      vmid: g.vmid,
      type,
      status: g.status,
      template: g.template ?? false,
      ...(g.name ? { name: g.name } : {}),
      ...(g.lock ? { lock: g.lock } : {}),
    }));
  }

  async startVzdump(node: string, params: VzdumpParams, signal?: AbortSignal) {
    checkNode(node);
    checkStorage(params.storage);
    const path = apiPath('nodes', node, 'vzdump');
    // Only parameters any user may pass: `storage` always (PVE >= 7.3 checks /storage/local
    // without it), never script/dumpdir/tmpdir (root@pam only, refused to every token).
    const form: Params = {
      vmid: params.vmid,
      storage: params.storage,
      mode: params.mode,
      compress: params.compress,
      remove: params.remove,
      lockwait: params.lockwait,
    };
    let answer: string;
    const postedAt = Date.now();
    try {
      // Re-sent only when the request provably never left (connection refused / connect timeout).
      ({ data: answer } = await this.core.call('POST', path, VzdumpAnswer, {
        signal,
        form,
        retryOn: isNotSentError,
      }));
    } catch (err) {
      if (!isLostAnswer(err) || signal?.aborted) throw err;
      return {
        upid: await findLostVzdump(
          {
            cluster: this.cluster,
            principal: this.core.auth.principal,
            policy: this.policy,
            logger: this.logger,
            vzdumpTasks: (s) => this.vzdumpTasks(node, params.vmid, s),
            postedAt,
          },
          node,
          params.vmid,
          err,
          signal,
        ),
      };
    }
    const text = answer.trim();
    if (isUpid(text)) return { upid: text };
    // Not a UPID: `OK` (nothing to do) or a hostile/garbled answer, shown escaped and bounded.
    const shown = escapeForLog(text);
    this.logger.warn('vzdump started nothing', {
      cluster: this.cluster,
      node,
      vmid: params.vmid,
      answer: shown,
    });
    return { upid: undefined, answer: shown };
  }

  async taskStatus(node: string, upid: string, signal?: AbortSignal) {
    checkNode(node);
    checkUpid(upid);
    const { data } = await this.core.call(
      'GET',
      apiPath('nodes', node, 'tasks', upid, 'status'),
      TaskStatus,
      {
        signal,
      },
    );
    return {
      upid: data.upid ?? upid,
      status: data.status,
      ...(data.exitstatus ? { exitstatus: data.exitstatus } : {}),
    };
  }

  async taskLog(node: string, upid: string, start: number, limit: number, signal?: AbortSignal) {
    checkNode(node);
    checkUpid(upid);
    // limit=0 meant "50" before pve-common 7.3-1 and "all" after: never send it.
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError('taskLog limit must be a positive integer');
    if (!Number.isInteger(start) || start < 0)
      throw new RangeError('taskLog start must be a non-negative integer');
    const { data, total } = await this.core.call(
      'GET',
      apiPath('nodes', node, 'tasks', upid, 'log'),
      TaskLog,
      {
        signal,
        query: { start, limit },
      },
    );
    const lines = data.map((l) => ({ n: l.n, t: l.t }));
    // `total` is left out of the envelope when it is 0.
    return { lines, total: total ?? (lines.length > 0 ? start + lines.length : 0) };
  }

  async activeTasks(node: string, filter: { vmid?: number; type?: string }, signal?: AbortSignal) {
    checkNode(node);
    const major = this.#major ?? (await this.version(signal)).major;
    // The node's task list shows running tasks only with `source=active` (PM 5.3-9, 32388c41,
    // with `typefilter`); before, it is the index of finished tasks, and every method refuses
    // unknown parameters (400). So below 6 read the task lists the nodes broadcast
    // (/cluster/tasks, every version: running tasks have no status) and keep this node's.
    // `vmid` matches the UPID id, which vzdump fills only from 5.3-8: filter it here below 6.
    const { data } =
      major >= 6
        ? await this.core.call('GET', apiPath('nodes', node, 'tasks'), Tasks, {
            signal,
            query: {
              source: 'active',
              typefilter: filter.type,
              ...(filter.vmid !== undefined ? { vmid: filter.vmid } : {}),
            },
          })
        : await this.core.call('GET', '/cluster/tasks', Tasks, { signal });
    return data
      .filter((t) => major >= 6 || parseUpid(t.upid)?.node === node)
      .filter((t) => filter.type === undefined || t.type === filter.type)
      .filter((t) => filter.vmid === undefined || t.id === String(filter.vmid) || t.id === '')
      .filter((t) => major >= 6 || t.status === undefined || t.status === 'RUNNING')
      .map((t) => ({
        upid: t.upid,
        type: t.type,
        id: t.id,
        ...(t.status ? { status: t.status } : {}),
        ...(t.user ? { user: t.user } : {}),
      }));
  }

  /**
   * The node's vzdump tasks that may be a vmid's, running and finished, for
   * the lost-answer search. From PVE 6 one call (`source=all`, PM >= 5.3-9).
   * Before, the node list is the index of finished tasks (no `source`, no
   * `typefilter`; `vmid` would miss the empty ids of vzdump before 5.3-8) and
   * running ones are in /cluster/tasks.
   */
  private async vzdumpTasks(node: string, vmid: number, signal?: AbortSignal) {
    const major = this.#major ?? (await this.version(signal)).major;
    const path = apiPath('nodes', node, 'tasks');
    const rows =
      major >= 6
        ? (
            await this.core.call('GET', path, Tasks, {
              signal,
              query: { source: 'all', typefilter: 'vzdump', vmid },
            })
          ).data
        : [
            ...(await this.core.call('GET', '/cluster/tasks', Tasks, { signal })).data,
            ...(await this.core.call('GET', path, Tasks, { signal })).data,
          ];
    const seen = new Set<string>();
    return rows
      .filter((t) => parseUpid(t.upid)?.node === node && t.type === 'vzdump')
      .filter((t) => t.id === String(vmid) || t.id === '')
      .filter((t) => !seen.has(t.upid) && seen.add(t.upid))
      .map((t) => ({
        upid: t.upid,
        id: t.id,
        finished: t.status !== undefined && t.status !== 'RUNNING',
      }));
  }

  async stopTask(node: string, upid: string, signal?: AbortSignal) {
    checkNode(node);
    checkUpid(upid);
    // Stopping twice is harmless, so transient failures are retried like a GET.
    await this.core.call('DELETE', apiPath('nodes', node, 'tasks', upid), z.unknown(), {
      signal,
      retryOn: isRetryable,
    });
  }

  async backupContent(node: string, storage: string, signal?: AbortSignal) {
    checkNode(node);
    checkStorage(storage);
    const { data } = await this.core.call(
      'GET',
      apiPath('nodes', node, 'storage', storage, 'content'),
      BackupVolumes,
      {
        signal,
        query: { content: 'backup' },
      },
    );
    return data
      .filter((v) => v.content === undefined || v.content === 'backup')
      .filter((v) => {
        // A volume id PVE could not have listed (`../`, another storage, control characters)
        // is never put into a DELETE path or an NAS file name.
        const parsed = parseBackupVolid(v.volid);
        if (parsed?.storage === storage) return true;
        this.logger.warn(
          `storage ${storage} on node ${node} listed an invalid volume id; ignored`,
          {
            cluster: this.cluster,
            volid: showValue(v.volid),
          },
        );
        return false;
      })
      .map((v) => ({
        volid: v.volid,
        size: v.size,
        ...(v.format ? { format: v.format } : {}),
        ...(v.vmid !== undefined ? { vmid: v.vmid } : {}),
        ...(v.ctime !== undefined ? { ctime: v.ctime } : {}),
      }));
  }

  async deleteVolume(node: string, storage: string, volid: string, signal?: AbortSignal) {
    checkNode(node);
    checkStorage(storage);
    if (parseBackupVolid(volid)?.storage !== storage) {
      throw new TypeError(`not a backup volume of storage ${storage}: ${showValue(volid)}`);
    }
    const { data } = await this.core.call(
      'DELETE',
      apiPath('nodes', node, 'storage', storage, 'content', volid),
      DeleteVolumeAnswer,
      // A second DELETE after a lost answer would fail with "does not exist": only re-send when nothing was sent.
      {
        signal,
        retryOn: (err) => isNotSentError(err) || (err instanceof PveApiError && err.status === 595),
      },
    );
    const text = typeof data === 'string' ? data.trim() : '';
    return isUpid(text) ? { upid: text } : {};
  }

  async restoreGuest(node: string, params: RestoreParams, signal?: AbortSignal) {
    checkNode(node);
    const volume = parseBackupVolid(params.volid);
    if (!volume) throw new TypeError(`not a backup volume: ${showValue(params.volid)}`);
    if (params.storage !== undefined) checkStorage(params.storage);
    // LXC and OpenVZ take the volume as `ostemplate` with restore=1; QEMU as `archive`.
    const form: Params =
      params.type === 'qemu'
        ? { vmid: params.vmid, archive: params.volid }
        : { vmid: params.vmid, ostemplate: params.volid, restore: 1 };
    if (params.force) form.force = 1;
    if (params.storage !== undefined) form.storage = params.storage;
    // A second POST after a lost answer would find its own guest and fail "already exists".
    const { data } = await this.core.call(
      'POST',
      apiPath('nodes', node, params.type),
      VzdumpAnswer,
      { signal, form, retryOn: isNotSentError },
    );
    const text = data.trim();
    if (!isUpid(text)) {
      throw new PveApiError({
        cluster: this.cluster,
        method: 'POST',
        path: apiPath('nodes', node, params.type),
        status: 200,
        pveMessage: `expected a task id, got ${showValue(text)}`,
      });
    }
    return { upid: text };
  }

  secrets(): string[] {
    return this.core.auth.secrets();
  }

  close(): Promise<void> {
    return this.closeTransport();
  }
}

function isGuestType(t: string): t is GuestType {
  return (GUEST_TYPES as readonly string[]).includes(t);
}

function checkUpid(upid: string): void {
  if (!isUpid(upid)) throw new TypeError(`not a valid UPID: ${showValue(upid)}`);
}

/** Names from an answer (or the config) go into a path only when PVE itself allows them. */
function checkNode(node: string): void {
  if (!isNodeName(node)) throw new TypeError(`not a valid PVE node name: ${showValue(node)}`);
}

function checkStorage(storage: string): void {
  if (!isStorageId(storage)) {
    throw new TypeError(`not a valid PVE storage id: ${showValue(storage)}`);
  }
}
