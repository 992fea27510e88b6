/**
 * `GET /access/permissions` (docs/pve-facts.md#preflight; PAC
 * src/PVE/API2/AccessControl.pm, from pve-access-control 6.0-6, the release
 * that added API tokens, so PVE 6.1+): `{path: {Priv: propagate}}` for the
 * caller. The value is the propagate flag, not a grant: callers test presence.
 * Absent on 3.4 (501 like every missing method).
 */
import { aclPaths, privilegesOn } from './access.js';
import { ApiError } from './envelope.js';
import { arg, type Route, type RouteContext } from './router.js';

/** The paths PVE lists without `path` (RPCEnvironment permissions): the roots and every ACL path. */
const ROOTS = ['/', '/access', '/access/groups', '/nodes', '/pool', '/sdn', '/storage', '/vms'];

function permissions(ctx: RouteContext) {
  const userid = arg(ctx, 'userid');
  if (userid !== undefined && userid !== ctx.auth.user) {
    // Since PAC 8.2.0 one may ask for oneself and one's own tokens; others need Sys.Audit on /access.
    const own = userid.startsWith(`${ctx.auth.user.split('!')[0]}!`);
    if (!own && !privilegesOn(ctx, '/access').has('Sys.Audit')) {
      throw new ApiError(403, 'Permission check failed (/access, Sys.Audit)');
    }
  }
  const path = arg(ctx, 'path');
  const paths = path !== undefined ? [path] : [...new Set([...ROOTS, ...aclPaths(ctx)])];
  const data: Record<string, Record<string, number>> = {};
  for (const p of paths) {
    data[p] = Object.fromEntries([...privilegesOn(ctx, p)].sort().map((priv) => [priv, 1]));
  }
  return { data };
}

/** Access routes: only where the flavour has API tokens (the same release added this endpoint). */
export function accessRoutes(): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/access\/permissions$/,
      handler: permissions,
      when: (ctx) => ctx.state.flavour.tokens,
    },
  ];
}
