/**
 * How to install the node hook: the text of `pve-ftp-backup hook --help` and
 * of the README's section on it. Kept beside the script so both change together.
 */

/** Installation text for `hook --help` and the README (plain text, 80 columns). */
export const hookInstallHelp = `\
Install the vzdump hook once on every Proxmox VE node that is backed up.
Through the API nothing can be run on a node and no archive can be downloaded,
so the node pushes each finished archive and its .log to the FTP NAS itself,
into {ftp.dir}/{node}/transfer/, with curl (a stock PVE node has sh, curl and
coreutils: nothing else is needed).

First, on every node, a staging storage that vzdump writes to and never prunes
(the tool deletes each archive itself once its NAS copy is verified; a
pruning storage could delete a file the tool still needs):
  mkdir -p /var/lib/vz/ftp-staging
  pvesm add dir ftp-staging --path /var/lib/vz/ftp-staging --content backup \\
    --prune-backups keep-all=1          (PVE < 7: --maxfiles 0 instead)
Its id goes into the tool's config as backup.storage.

On the machine with the tool's config:
  pve-ftp-backup hook > hook.sh
  pve-ftp-backup hook --config --node pve1 > hook.conf     (once per node)

On the node pve1, as root:
  install -D -m 0755 hook.sh /usr/local/lib/pve-ftp-backup/hook
  install -D -m 0600 hook.conf /etc/pve-ftp-backup/hook.conf
  echo 'script: /usr/local/lib/pve-ftp-backup/hook' >> /etc/vzdump.conf

  /etc/vzdump.conf is the only place: the API refuses 'script' from every API
  token, even root's. If the file already names a script, chain the two (a
  wrapper that runs both) instead of adding a second line. Keep the path free
  of spaces (old vzdump versions split it).

hook.conf holds the FTP password: keep it mode 0600, owner root. Its lines are
key=value, the value taken literally to the end of the line; the script
parses it and never executes it. Set PVE_FTP_BACKUP_HOOK_CONF (in a wrapper)
to read it from elsewhere.

What the hook does: it acts only on backups whose storage is the configured
staging storage ('backup.storage'); other vzdump jobs on the node are left
alone, and phases it does not know exit 0. By default it uploads at
'log-end', after vzdump has released the guest; with upload_at=backup-end a
failed upload fails that guest's backup, but the guest stays locked (and, in
stop mode, down) for the whole upload. Files go to NAME.part first and are
renamed once the size on the server equals the local size; a shorter .part is
resumed, a larger one deleted. Beside each archive goes NAME.sha256
('<hex>  NAME', hashed on the node while the archive uploads), after the
archive is in place. A guest's files go over one FTP login (curl >= 7.52;
older curl logs in once per request). Retries, timeouts and the rate cap
(limit_rate, from 'ftp.limitRate') are set in hook.conf.
Either way, the tool itself checks every archive over FTP before it deletes
the node-local copy.

Each upload prints one line into the vzdump task log: "uploaded NAME (N bytes)
to ftp://host:port/dir/node/transfer/" or "ERROR: upload of NAME to ... failed
after N attempt(s): <curl's reason>". The password never appears there, nor
in any command line (curl reads it from a private netrc file that is removed
when the hook exits).

The way back ('pve-ftp-backup restore' prints the exact line): on the node a
guest is restored to, as root,
  /usr/local/lib/pve-ftp-backup/hook fetch [--from-node NODE] GENERATION FILE
downloads {ftp.dir}/{NODE, default this node}/GENERATION/FILE into the staging
storage's dump directory (where 'pvesm path STORAGE:backup/FILE' puts it),
under a temporary name until its size equals the NAS copy's and its sha256
equals FILE.sha256; only then does it get its vzdump name. A file of that name
already there is never overwritten. One line says what was fetched, or the
one thing that went wrong (exit 1; 2 for bad arguments).

A password with a space, or one that starts with " or #, needs curl >= 7.84 on
the node (PVE 8 and later); any other printable characters work with any curl.
Control characters (tab included) cannot be used.
`;
