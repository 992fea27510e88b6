/**
 * The HTTPS front: reads the request like pveproxy (form bodies only before
 * 6.2, a body needs Content-Length), applies faults, authenticates, routes and
 * records every request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import type { SimAuth } from './auth.js';
import type { ClusterState } from './cluster.js';
import { ApiError, type ApiResult, sendData, sendError } from './envelope.js';
import type { FaultPlan } from './faults.js';
import { dispatch, type Route } from './router.js';
import type { RecordedRequest } from './scenario.js';

/** pveproxy refuses bodies over 64 KiB. */
const MAX_BODY = 64 * 1024;

export interface ServerDeps {
  state: ClusterState;
  auth: SimAuth;
  faults: FaultPlan;
  routes: Route[];
  requests: RecordedRequest[];
  authFailureDelayMs: number;
  /** Aborted on close: pending delays end early. */
  signal: AbortSignal;
}

type Params = Record<string, string | string[]>;

function addParam(into: Params, key: string, value: string): void {
  const prev = into[key];
  if (prev === undefined) into[key] = value;
  else into[key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
}

function parseForm(text: string): Params {
  const out: Params = {};
  for (const [k, v] of new URLSearchParams(text)) addParam(out, k, v);
  return out;
}

function parseJsonBody(text: string): Params {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ApiError(400, 'Parameter verification failed.');
  }
  const out: Params = {};
  for (const [k, v] of Object.entries(parsed)) {
    out[k] = Array.isArray(v)
      ? v.map((x) => String(x))
      : typeof v === 'boolean'
        ? v
          ? '1'
          : '0'
        : String(v);
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'Request Entity Too Large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Builds the request listener for node:https. */
export function createHandler(deps: ServerDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'https://sim.invalid');
    const base = '/api2/json';
    const rawPath = url.pathname.startsWith(base)
      ? url.pathname.slice(base.length) || '/'
      : url.pathname;
    let path = rawPath;
    try {
      // pveproxy uri_unescapes the path before routing (UPIDs, volids).
      path = decodeURIComponent(rawPath);
    } catch {
      path = rawPath;
    }
    const query: Params = {};
    for (const [k, v] of url.searchParams) addParam(query, k, v);
    const record: RecordedRequest = {
      method,
      path,
      rawPath,
      query,
      body: {},
      headers: { ...req.headers },
      status: 0,
      at: Date.now(),
    };
    deps.requests.push(record);
    const { flavour } = deps.state;
    let dropAnswer = false;
    try {
      const hasBody = method !== 'GET';
      let text = '';
      if (hasBody) {
        if (req.headers['content-length'] === undefined && req.headers['transfer-encoding']) {
          throw new ApiError(501, 'Unexpected content for method without Content-Length');
        }
        text = await readBody(req);
      } else {
        req.resume();
      }
      if (text !== '') {
        const ct = req.headers['content-type'] ?? '';
        if (/^application\/json/i.test(ct)) {
          // PHS accepts JSON bodies only from 3.0-6 (PVE 6.2).
          if (!flavour.jsonBodies)
            throw new ApiError(506, `upload 'Content-Type '${ct}' not implemented`);
          record.body = parseJsonBody(text);
        } else {
          record.body = parseForm(text);
        }
      }
      if (!url.pathname.startsWith(`${base}/`) && url.pathname !== base) {
        throw new ApiError(501, 'no such uri');
      }
      const delay = deps.faults.delayMs(path);
      if (delay > 0) await sleep(delay, undefined, { signal: deps.signal }).catch(() => {});
      const fault = deps.faults.take(method, path);
      if (fault && (fault.kind ?? 'status') === 'status')
        throw new ApiError(fault.status, fault.reason);
      dropAnswer = fault?.kind === 'drop-answer';
      const args = method === 'GET' ? query : { ...query, ...record.body };
      let result: ApiResult;
      if (method === 'POST' && path === '/access/ticket') {
        result = { data: deps.auth.login(flatten(args)) };
      } else {
        const auth = deps.auth.authenticate(method, req.headers);
        result = await dispatch(deps.routes, {
          state: deps.state,
          auth,
          method,
          path,
          params: [],
          args,
        });
      }
      if (fault?.kind === 'status-after') throw new ApiError(fault.status, fault.reason);
      record.status = 200;
      if (dropAnswer) {
        res.socket?.destroy();
        return;
      }
      sendData(res, result);
    } catch (err) {
      const apiErr = err instanceof ApiError ? err : new ApiError(500, errorMessage(err));
      record.status = apiErr.status;
      // PVE delays every 401 (~3 s) to slow down password guessing.
      if (apiErr.status === 401 && deps.authFailureDelayMs > 0) {
        await sleep(deps.authFailureDelayMs, undefined, { signal: deps.signal }).catch(() => {});
      }
      if (dropAnswer) {
        res.socket?.destroy();
        return;
      }
      if (!res.headersSent && !res.destroyed) sendError(res, apiErr, flavour.errorMessageInBody);
    }
  };
}

function flatten(p: Params): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) out[k] = Array.isArray(v) ? (v[v.length - 1] ?? '') : v;
  return out;
}
