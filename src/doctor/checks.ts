/**
 * The check logic of `doctor`: pure functions from what the API and the NAS
 * answered to check lines. Nothing here does I/O, so every verdict and every
 * fix sentence is unit-tested. The facts behind each check (which release has
 * which endpoint, which privilege PVE checks where) are in docs/doctor.md and
 * docs/pve-facts.md#preflight.
 */
import { formatBytes } from '../format.js';
import { type CheckLine, cannotTell, fail, ok, warn } from './types.js';

/** `{path: {Priv: propagate}}` as GET /access/permissions answers (presence = granted). */
export type Permissions = Record<string, Record<string, unknown>>;

const has = (perms: Permissions, path: string, priv: string): boolean =>
  Object.hasOwn(perms[path] ?? {}, priv);

/**
 * How `pveum acl modify` names the principal: `--tokens ID` or `--users ID`.
 * The fixes grant `PVEFtpBackup`, the least-privilege role README.md sets up
 * (VM.Audit, VM.Backup, Datastore.AllocateSpace); PVE has no built-in role that
 * holds exactly these.
 */
function pveumWho(principal: string): string {
  return principal.includes('!') ? `--tokens '${principal}'` : `--users ${principal}`;
}

/**
 * VM.Backup on /vms (vzdump checks it per guest inside the task; DELETE of the
 * archive and the content listing need it with Datastore.AllocateSpace).
 * `tree` is the answer without `path`: /vms and every ACL path.
 */
export function vmBackupCheck(principal: string, tree: Permissions): CheckLine {
  if (has(tree, '/vms', 'VM.Backup'))
    return ok('privilege.vms', `${principal} has VM.Backup on /vms`);
  const some = Object.keys(tree)
    .filter((p) => /^\/vms\/\d+$/.test(p) && has(tree, p, 'VM.Backup'))
    .sort();
  const fix = `grant it with pveum acl modify /vms ${pveumWho(principal)} --roles PVEFtpBackup`;
  if (some.length > 0) {
    return warn(
      'privilege.vms',
      `${principal} has VM.Backup only on ${some.join(', ')}: a guest added later fails its backup`,
      fix,
    );
  }
  return fail('privilege.vms', `${principal} lacks VM.Backup on /vms`, fix);
}

/**
 * Datastore.AllocateSpace on the staging storage: vzdump checks it before it
 * starts (403); with VM.Backup it also lets the tool list and delete the
 * archive (pve-storage check_volume_access), so Datastore.Allocate is not needed.
 */
export function storagePrivilegeCheck(
  principal: string,
  storage: string,
  onStorage: Permissions,
): CheckLine {
  const path = `/storage/${storage}`;
  if (has(onStorage, path, 'Datastore.AllocateSpace')) {
    return ok('privilege.storage', `${principal} has Datastore.AllocateSpace on ${path}`);
  }
  return fail(
    'privilege.storage',
    `${principal} lacks Datastore.AllocateSpace on ${path}`,
    `grant it with pveum acl modify ${path} ${pveumWho(principal)} --roles PVEFtpBackup`,
  );
}

/** The path of the SDN zone PVE checks for a guest's interface on a plain Linux bridge. */
export const LOCAL_SDN_ZONE = '/sdn/zones/localnetwork';

/**
 * `doctor --restore`: what a restore needs beyond what the backup lines check
 * (VM.Backup on /vms, which also reads another guest's archive under a new id,
 * and Datastore.AllocateSpace on the staging storage). docs/pve-facts.md#restore:
 * VM.Allocate on /vms/{vmid} creates the guest; from PVE 8 the networks of the
 * backed-up config need SDN.Use on their bridges (`sdn` is the answer for
 * LOCAL_SDN_ZONE, inheritance resolved); from PVE 9 a privileged container
 * needs Sys.Modify on `/`. The last two depend on the guest, so they warn.
 */
export function restorePrivilegeChecks(
  principal: string,
  tree: Permissions,
  o: { major: number; sdn?: Permissions },
): CheckLine[] {
  const lines: CheckLine[] = [];
  const who = pveumWho(principal);
  if (has(tree, '/vms', 'VM.Allocate')) {
    lines.push(ok('restore.allocate', `${principal} has VM.Allocate on /vms`));
  } else {
    const some = Object.keys(tree)
      .filter((p) => /^\/vms\/\d+$/.test(p) && has(tree, p, 'VM.Allocate'))
      .sort();
    const fix = `grant it with pveum acl modify /vms ${who} --roles PVEFtpRestore (README: Restore)`;
    lines.push(
      some.length > 0
        ? warn(
            'restore.allocate',
            `${principal} has VM.Allocate only on ${some.join(', ')}: a restore to any other id is refused`,
            fix,
          )
        : fail(
            'restore.allocate',
            `${principal} lacks VM.Allocate on /vms: it cannot restore`,
            fix,
          ),
    );
  }
  if (o.major >= 8 && o.sdn) {
    lines.push(
      has(o.sdn, LOCAL_SDN_ZONE, 'SDN.Use')
        ? ok('restore.sdn', `${principal} has SDN.Use on ${LOCAL_SDN_ZONE}`)
        : warn(
            'restore.sdn',
            `${principal} lacks SDN.Use on ${LOCAL_SDN_ZONE}: a guest with a network interface on a local bridge cannot be restored`,
            `grant it with pveum acl modify ${LOCAL_SDN_ZONE} ${who} --roles PVESDNUser`,
          ),
    );
  }
  if (o.major >= 9) {
    lines.push(
      has(tree, '/', 'Sys.Modify')
        ? ok('restore.privileged', `${principal} has Sys.Modify on /`)
        : warn(
            'restore.privileged',
            `${principal} lacks Sys.Modify on /: a privileged container cannot be restored (unprivileged ones and VMs can)`,
            'grant Sys.Modify on / only if you restore privileged containers: it lets the token change node settings',
          ),
    );
  }
  return lines;
}

/** GET /access/permissions exists from pve-access-control 6.0-6 (PVE 6.1). */
export function privilegesCannotTell(pveVersion: string): CheckLine {
  return cannotTell(
    'privileges',
    pveVersion,
    'privileges (GET /access/permissions exists from PVE 6.1)',
  );
}

/** A storage.cfg entry as GET /storage lists it (only the keys the checks read). */
export interface StorageConfigRow {
  storage: string;
  content?: string;
  nodes?: string;
  disable?: number | string | boolean;
  'prune-backups'?: string;
  maxfiles?: number | string;
}

/**
 * The staging storage in storage.cfg: listed (to a caller with Datastore.Audit
 * or AllocateSpace), enabled, allowed on the node, with `backup` content.
 */
export function storageConfigCheck(
  storage: string,
  node: string,
  row: StorageConfigRow | undefined,
): CheckLine {
  const id = 'storage.config';
  if (!row) {
    return fail(
      id,
      `staging storage ${storage} does not exist (or the caller cannot see it)`,
      `create it with pvesm add dir ${storage} --path /var/lib/${storage} --content backup, or set backup.storage`,
    );
  }
  const disabled = row.disable === 1 || row.disable === '1' || row.disable === true;
  if (disabled) {
    return fail(id, `staging storage ${storage} is disabled`, `pvesm set ${storage} --disable 0`);
  }
  const nodes = row.nodes
    ?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (nodes && nodes.length > 0 && !nodes.includes(node)) {
    return fail(
      id,
      `staging storage ${storage} is restricted to ${nodes.join(', ')}`,
      `pvesm set ${storage} --nodes ${[...nodes, node].join(',')}`,
    );
  }
  const content = (row.content ?? '').split(',').map((c) => c.trim());
  if (!content.includes('backup')) {
    return fail(
      id,
      `staging storage ${storage} does not hold backup content (${row.content || 'none'})`,
      `pvesm set ${storage} --content ${[...content.filter(Boolean), 'backup'].join(',')}`,
    );
  }
  return ok(id, `staging storage ${storage}: enabled, backup content`);
}

/** The keep-* options of a `prune-backups` string; `undefined` when it cannot be read. */
export function parsePrune(text: string): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(keep-[a-z]+)=(\d+)$/.exec(part);
    if (!m) return undefined;
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/**
 * Pruning on the staging storage is a fail: after each backup vzdump prunes
 * the guest's OLDER archives there, and the only older archive the tool ever
 * leaves on a node is one whose NAS copy did not verify (kept on purpose, the
 * one copy there is). Pruning would delete it before it is ever verified.
 * `keep-all=1` (or no keep option, or maxfiles 0 on 3.x) keeps everything.
 * `from` says where the value came from (storage.cfg or the vzdump defaults).
 */
export function pruneCheck(
  storage: string,
  setting: { pruneBackups?: string; maxfiles?: number | string },
  from: string,
): CheckLine {
  const id = 'storage.prune';
  const fix = `keep every archive there: pvesm set ${storage} --prune-backups keep-all=1`;
  if (setting.pruneBackups !== undefined) {
    const keeps = parsePrune(setting.pruneBackups);
    if (!keeps) {
      return warn(
        id,
        `cannot read prune-backups '${setting.pruneBackups}' of ${storage} (${from})`,
        fix,
      );
    }
    if (keeps['keep-all'] === 1) return ok(id, `${storage}: no pruning (keep-all=1, ${from})`);
    const limits = Object.entries(keeps).filter(([k, n]) => k !== 'keep-all' && n > 0);
    if (limits.length === 0) return ok(id, `${storage}: no pruning (${from})`);
    return fail(
      id,
      `${storage} prunes backups (${setting.pruneBackups}, ${from}): it can delete an archive left on the node before its NAS copy is verified`,
      fix,
    );
  }
  if (setting.maxfiles !== undefined) {
    const n = Number(setting.maxfiles);
    if (n === 0) return ok(id, `${storage}: no pruning (maxfiles 0, ${from})`);
    return fail(
      id,
      `${storage} keeps only ${setting.maxfiles} backup(s) per guest (maxfiles, ${from}): vzdump can delete an archive left on the node before its NAS copy is verified`,
      `pvesm set ${storage} --maxfiles 0`,
    );
  }
  return ok(id, `${storage}: no pruning (${from})`);
}

/** GET /nodes/{node}/storage/{id}/status, the keys the check reads. */
export interface StorageStatus {
  enabled?: number;
  active?: number;
  total?: number;
  avail?: number;
}

/** Below this the next archive may not fit: a warning. */
const LOW_SPACE_BYTES = 10 * 1024 ** 3;

export function spaceCheck(storage: string, node: string, status: StorageStatus): CheckLine {
  const id = 'storage.space';
  if (status.enabled === 0) {
    return fail(
      id,
      `staging storage ${storage} is not enabled on ${node}`,
      `enable it for ${node}: pvesm set ${storage} --disable 0 (and list ${node} in --nodes)`,
    );
  }
  if (status.active === 0) {
    return fail(
      id,
      `staging storage ${storage} is not active on ${node}`,
      `check its path or mount on ${node} (pvesm status)`,
    );
  }
  const avail = Number(status.avail ?? 0);
  const free = `${formatBytes(avail)} free of ${formatBytes(Number(status.total ?? 0))}`;
  if (avail < LOW_SPACE_BYTES) {
    return warn(
      id,
      `staging storage ${storage}: only ${free}`,
      `free space on ${storage}: it must hold the largest guest's archive`,
    );
  }
  return ok(id, `staging storage ${storage}: ${free}`);
}

/** GET /nodes/{node}/vzdump/defaults exists from pve-manager 6.4-5. */
export function hookDefaultsCannotTell(pveVersion: string): CheckLine {
  return cannotTell(
    'hook.defaults',
    pveVersion,
    'vzdump defaults (GET /nodes/{node}/vzdump/defaults exists from PVE 6.4)',
  );
}

/**
 * The hook in the node's vzdump defaults. PVE removes `script` from the answer
 * for a caller without Sys.Audit on /nodes/{node}: then it cannot be told.
 */
export function hookDefaultsCheck(
  node: string,
  defaults: Record<string, unknown>,
  sysAuditOnNode: boolean,
): CheckLine {
  const id = 'hook.defaults';
  const script = defaults.script;
  if (typeof script === 'string' && script !== '') {
    return ok(id, `vzdump runs the hook ${script}`);
  }
  if (!sysAuditOnNode) {
    return warn(
      id,
      `cannot tell whether vzdump runs the hook: PVE hides 'script' without Sys.Audit on /nodes/${node}`,
      `grant Sys.Audit on /nodes/${node} (role PVEAuditor) to let doctor see it`,
    );
  }
  return fail(
    id,
    `the node's vzdump defaults name no hook script`,
    `install it on ${node} and add 'script: /usr/local/bin/pve-ftp-backup-hook' to /etc/vzdump.conf (see pve-ftp-backup hook --help)`,
  );
}

/**
 * What the hook prints (hook/pve-ftp-backup-hook.sh `say`): `pve-ftp-backup-hook: …`,
 * which vzdump logs as `INFO: <line>` (docs/pve-facts.md#hook). The text after the prefix.
 */
const HOOK_LINE = /^(?:[A-Z]+: )?pve-ftp-backup-hook: (.*)$/;

/**
 * The newest finished vzdump task's log: the hook's `uploaded …` lines show
 * it ran and reached the NAS; an `ERROR:` line of the hook is a fail.
 */
export function taskLogCheck(
  task: { upid: string; starttime?: number } | undefined,
  lines: string[],
): CheckLine {
  const id = 'hook.tasklog';
  if (!task) {
    return warn(
      id,
      'no finished vzdump task in the node task list yet',
      'run pve-ftp-backup run once, then doctor again',
    );
  }
  const when =
    task.starttime !== undefined ? ` of ${new Date(task.starttime * 1000).toISOString()}` : '';
  const hook = lines.flatMap((l) => {
    const m = HOOK_LINE.exec(l);
    return m ? [m[1]!] : [];
  });
  const errors = hook.filter((l) => l.startsWith('ERROR:'));
  if (errors.length > 0) {
    return fail(
      id,
      `the last vzdump task${when} shows the hook failing: ${errors[0]}`,
      "fix the node's hook.conf (pve-ftp-backup hook --config --node NAME) or the NAS it names",
    );
  }
  const uploads = hook.filter((l) => l.startsWith('uploaded '));
  if (uploads.length > 0) {
    return ok(id, `the last vzdump task${when} shows ${uploads.length} upload(s) by the hook`);
  }
  return warn(
    id,
    `the last vzdump task${when} shows no upload line of the hook`,
    "install the hook (script: in /etc/vzdump.conf) or check that the task's storage is backup.storage",
  );
}

/** What doctor saw of a node's lock directory on the NAS. */
export interface SeenLock {
  holder?: { runId: string; host: string; pid: number; startedAt: string };
  /** Seconds since the newest file in `.lock/` was written (NAS clock); undefined: unknown. */
  ageSeconds?: number;
}

const ageText = (s: number): string =>
  s < 120 ? `${Math.round(s)}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;

/**
 * A held lock is a warning, never touched: a run working now holds it (the
 * next run would wait for nothing and exit 3), or a dead run left it (the
 * lease frees it: a run takes it over once it is older than lockLease).
 */
export function lockCheck(
  path: string,
  seen: SeenLock | undefined,
  leaseSeconds: number,
): CheckLine {
  const id = 'nas.lock';
  if (!seen) return ok(id, `no lock held (${path})`);
  const who = seen.holder
    ? `run ${seen.holder.runId} (host ${seen.holder.host}, pid ${seen.holder.pid}, since ${seen.holder.startedAt})`
    : 'an unknown holder';
  const age = seen.ageSeconds !== undefined ? `, last written ${ageText(seen.ageSeconds)} ago` : '';
  if (seen.ageSeconds !== undefined && seen.ageSeconds > leaseSeconds) {
    return warn(
      'nas.lock',
      `stale lock ${path} held by ${who}${age}`,
      'nothing to do: the next run takes it over (its lease has run out)',
    );
  }
  return warn(
    id,
    `lock ${path} held by ${who}${age}`,
    'a run is working on this node now; if none is, the lease frees it after lockLease',
  );
}
