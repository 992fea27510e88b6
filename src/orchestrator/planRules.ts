/**
 * What a cluster's PVE version can do, for the plan: pure helpers. A setting
 * the version cannot do is a ConfigError (exit 2) before anything starts, not a
 * vzdump task that fails on every guest.
 */
import type { Config } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { GuestType } from '../pveApi/index.js';

/** `8.2.4` / `6.2-4` / `5.4` → [major, minor]; minor undefined when unreadable. */
export function parsePveVersion(version: string, major: number): [number, number | undefined] {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : [major, undefined];
}

/** Whether PVE `version` is at least `want` (unknown minor: only the major decides, generously). */
export function atLeast(version: string, major: number, want: [number, number]): boolean {
  const [maj, min] = parsePveVersion(version, major);
  if (maj !== want[0]) return maj > want[0];
  return min === undefined || min >= want[1];
}

/** Guest types PVE `major` knows: OpenVZ until 3.x, LXC from 4.0, QEMU always. */
export function typesKnownBy(major: number): GuestType[] {
  return major < 4 ? ['openvz', 'qemu'] : ['lxc', 'qemu'];
}

/**
 * Refuses settings the cluster's PVE version cannot do.
 * @throws ConfigError naming the setting, the cluster and its version.
 */
export function checkVersionSupport(
  config: Config,
  cluster: { cluster: string; pveVersion: string; pveMajor: number },
): void {
  const { cluster: name, pveVersion, pveMajor } = cluster;
  const on = `cluster '${name}' runs PVE ${pveVersion}`;
  if (config.backup.compress === 'zstd' && !atLeast(pveVersion, pveMajor, [6, 2])) {
    throw new ConfigError(
      `backup.compress: zstd needs PVE >= 6.2, but ${on}; use lzo or gzip (or a per-cluster config)`,
    );
  }
  const auth = config.clusters.find((c) => c.name === name)?.auth;
  if (auth?.kind === 'token' && !atLeast(pveVersion, pveMajor, [6, 2])) {
    throw new ConfigError(
      `clusters[${config.clusters.findIndex((c) => c.name === name)}].auth: API tokens need PVE >= 6.2, but ${on}; use user + password`,
    );
  }
  const known = typesKnownBy(pveMajor);
  if (!config.backup.types.some((t) => known.includes(t))) {
    const hint = pveMajor < 4 ? 'containers there are OpenVZ: add openvz' : 'add lxc';
    throw new ConfigError(
      `backup.types [${config.backup.types.join(', ')}] selects nothing: ${on} (${hint})`,
    );
  }
}
