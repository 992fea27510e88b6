/**
 * The demo's own packages: ftp-srv (the embedded NAS) and selfsigned (the
 * simulator's certificates) are development dependencies, so a production
 * install (`npm install -g`, `--omit=dev`) runs every real command without
 * them. The demo imports them when it starts and, when they are missing, says
 * how to get them instead of failing with a module-resolution stack.
 */
import { ConfigError } from '../errors.js';

/** Packages the demo needs beyond the production dependencies. */
export const DEMO_DEPENDENCIES = ['ftp-srv', 'selfsigned'] as const;

/** A demo dependency is not installed (a production install): exit 2 with the way to get it. */
export class DemoDependencyError extends ConfigError {
  constructor(missing: readonly string[], options?: { cause?: unknown }) {
    super(
      `demo: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed. ` +
        'The demo needs the development dependencies, which a production install leaves out: ' +
        'run it from a clone of the repository after `npm ci` (npm ci && npm run demo).',
      options,
    );
  }
}

function isNotFound(error: unknown, name: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === 'ERR_MODULE_NOT_FOUND' &&
    typeof e.message === 'string' &&
    e.message.includes(`'${name}'`)
  );
}

/** Imports one demo dependency, or throws DemoDependencyError naming it. */
export async function importDemoDependency<M>(
  name: (typeof DEMO_DEPENDENCIES)[number],
): Promise<M> {
  try {
    return (await import(name)) as M;
  } catch (error) {
    if (isNotFound(error, name)) throw new DemoDependencyError([name], { cause: error });
    throw error;
  }
}

/** Checks every demo dependency up front, so the demo fails before it starts anything. */
export async function requireDemoDependencies(): Promise<void> {
  const missing: string[] = [];
  for (const name of DEMO_DEPENDENCIES) {
    try {
      await importDemoDependency(name);
    } catch (error) {
      if (!(error instanceof DemoDependencyError)) throw error;
      missing.push(name);
    }
  }
  if (missing.length > 0) throw new DemoDependencyError(missing);
}
