/**
 * The privilege model of the simulator (docs/pve-facts.md#preflight): ACLs
 * propagate from a path to every path below it; an authid without ACLs holds
 * everything. Routes use it to answer 403 exactly where PVE checks.
 */
import { ApiError } from './envelope.js';
import type { RouteContext } from './router.js';
import { ALL_PRIVILEGES } from './scenarioAccess.js';

/** Whether ACL path `acl` covers `path` (itself or an ancestor). */
function covers(acl: string, path: string): boolean {
  return acl === '/' || acl === path || path.startsWith(`${acl}/`);
}

/** The privileges `ctx`'s caller holds on `path`, inheritance resolved. */
export function privilegesOn(ctx: RouteContext, path: string): Set<string> {
  const acl = ctx.state.options.access?.acl?.[ctx.auth.user];
  if (!acl) return new Set(ALL_PRIVILEGES);
  const out = new Set<string>();
  for (const [p, privs] of Object.entries(acl)) {
    if (covers(p, path)) for (const priv of privs) out.add(priv);
  }
  return out;
}

/** PVE's 403 when none of `privs` is held on `path` (RPCEnvironment check_any / check). */
export function requireAny(ctx: RouteContext, path: string, privs: string[]): void {
  const held = privilegesOn(ctx, path);
  if (!privs.some((p) => held.has(p))) {
    throw new ApiError(403, `Permission check failed (${path}, ${privs.join(' | ')})`);
  }
}

/** The ACL paths of the caller (they appear in /access/permissions without `path`). */
export function aclPaths(ctx: RouteContext): string[] {
  return Object.keys(ctx.state.options.access?.acl?.[ctx.auth.user] ?? {});
}
