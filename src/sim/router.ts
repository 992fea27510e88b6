/**
 * Routing under /api2/json: a table of method + path pattern → handler, the
 * per-node checks pveproxy does before proxying (unknown node, offline node →
 * 595), and 501 for everything the flavour lacks.
 */
import type { AuthContext } from './auth.js';
import type { ClusterState, NodeState } from './cluster.js';
import { ApiError, type ApiResult } from './envelope.js';

export interface RouteContext {
  state: ClusterState;
  auth: AuthContext;
  method: string;
  path: string;
  /** Path parameters captured by the route pattern, decoded. */
  params: string[];
  /** Query (GET) or body (others) parameters, repeated keys as arrays. */
  args: Record<string, string | string[]>;
  /** The node of a `/nodes/{node}/…` path. */
  node?: NodeState;
}

export type Handler = (ctx: RouteContext) => ApiResult | Promise<ApiResult>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  pattern: RegExp;
  handler: Handler;
  /** Only on these flavours' APIs (e.g. `/openvz` only on 3.4). */
  when?: (ctx: RouteContext) => boolean;
}

/** Finds and runs the handler for a request. */
export async function dispatch(routes: Route[], ctx: RouteContext): Promise<ApiResult> {
  for (const route of routes) {
    if (route.method !== ctx.method) continue;
    const m = route.pattern.exec(ctx.path);
    if (!m) continue;
    const c: RouteContext = { ...ctx, params: m.slice(1) };
    if (route.when && !route.when(c)) continue;
    const nodeName = /^\/nodes\/([^/]+)/.exec(ctx.path)?.[1];
    if (nodeName !== undefined) {
      const node = ctx.state.nodes.get(nodeName);
      if (!node) {
        throw new ApiError(
          500,
          `hostname lookup '${nodeName}' failed - failed to get address info for: ${nodeName}: Name or service not known`,
        );
      }
      if (!node.online) {
        throw new ApiError(
          595,
          'Errors during connection establishment, proxy handshake: Connection refused',
        );
      }
      c.node = node;
    }
    return route.handler(c);
  }
  throw new ApiError(501, `Method '${ctx.method} ${ctx.path}' not implemented`);
}

/** A single-valued parameter (the last one when repeated). */
export function arg(ctx: RouteContext, name: string): string | undefined {
  const v = ctx.args[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** An integer parameter with a default; a non-integer is a 400 like PVE's schema check. */
export function intArg(ctx: RouteContext, name: string, dflt: number): number {
  const v = arg(ctx, name);
  if (v === undefined || v === '') return dflt;
  if (!/^-?\d+$/.test(v)) {
    throw new ApiError(400, 'Parameter verification failed.', {
      [name]: `type check ('integer') failed - got '${v}'`,
    });
  }
  return Number(v);
}
