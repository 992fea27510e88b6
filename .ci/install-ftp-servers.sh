#!/usr/bin/env bash
# Installs the real FTP servers the test matrix runs against (vitest.ftp-servers.config.ts):
# vsftpd, pure-ftpd and proftpd. Run as root on Debian 12; idempotent.
#
# The three Debian packages all Provide/Conflict `ftp-server`, so apt can hold only one of them
# (installing another silently removes the first). So: vsftpd is apt-installed when no FTP
# server is (that pulls in most shared libraries), and all three are `apt-get download`ed and
# unpacked with `dpkg -x` into $DEST/<name>/, where test/support/ftpServersReal.ts finds them.
# Nothing is started or enabled here: the harness runs each daemon in the foreground per test.
set -euo pipefail

DEST=${PVE_FTP_BACKUP_FTP_SERVERS_DIR:-/opt/pve-ftp-backup-test/ftp-servers}
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  echo "install-ftp-servers: must run as root" >&2
  exit 1
fi

# Shared libraries the extracted binaries link against (see docs/ftp-servers.md#install), and tools
# the harness uses. libpam-pwdfile lets vsftpd check a per-server password file (pam_exec
# deadlocks under vsftpd: its SIGCHLD handler reaps the helper and then waits forever), and acl
# grants the FTP user access to files tests seed as root.
LIBS=(openssl ca-certificates libsodium23 libhiredis0.14 libmemcached11 libmemcachedutil2
  libpcre2-posix3 libwrap0 libpam-modules libpam-pwdfile libcap2 libssl3 acl)

missing=()
for p in "${LIBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
need_update=1
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  need_update=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

installed_server=""
for p in vsftpd pure-ftpd proftpd-core proftpd-basic; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    installed_server=$p
  fi
done
if [ -z "$installed_server" ]; then
  [ $need_update -eq 1 ] && apt-get update -qq && need_update=0
  # policy-rc.d / no systemd: the service is not started by this.
  apt-get install -y -qq --no-install-recommends vsftpd >/dev/null
fi

mkdir -p "$DEST"
declare -A PKGS=([vsftpd]="vsftpd" [pure-ftpd]="pure-ftpd" [proftpd]="proftpd-core proftpd-mod-crypto")
for name in vsftpd pure-ftpd proftpd; do
  if [ -f "$DEST/$name/.complete" ]; then
    continue
  fi
  [ $need_update -eq 1 ] && apt-get update -qq && need_update=0
  work=$(mktemp -d)
  chmod 755 "$work" # apt downloads as the _apt user
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  (cd "$work" && apt-get download -qq ${PKGS[$name]} >/dev/null)
  rm -rf "$DEST/$name.tmp"
  mkdir -p "$DEST/$name.tmp"
  for deb in "$work"/*.deb; do
    dpkg -x "$deb" "$DEST/$name.tmp"
  done
  rm -rf "$work" "${DEST:?}/$name"
  mv "$DEST/$name.tmp" "$DEST/$name"
  touch "$DEST/$name/.complete"
done

# Every extracted binary must find its libraries, or the matrix would fail with a confusing error.
for bin in "$DEST/vsftpd/usr/sbin/vsftpd" "$DEST/pure-ftpd/usr/sbin/pure-ftpd" \
  "$DEST/pure-ftpd/usr/bin/pure-pw" "$DEST/proftpd/usr/sbin/proftpd"; do
  if ldd "$bin" | grep -q 'not found'; then
    echo "install-ftp-servers: $bin is missing libraries:" >&2
    ldd "$bin" | grep 'not found' >&2
    exit 1
  fi
done

# The system user the servers map logins to. It has no password (locked): the harness
# authenticates with per-server credentials (pam_pwdfile for vsftpd, AuthUserFile for proftpd,
# PureDB for pure-ftpd), so no test password is ever set on a system account.
# Home '/': vsftpd changes into the home dir before local_root and fails on a missing one.
if ! getent passwd pfbftp >/dev/null; then
  useradd --system -M -d / -s /bin/sh pfbftp
fi
usermod -d / pfbftp
# vsftpd's PAM stack may run pam_shells; keep the user's shell valid.
grep -qx /bin/sh /etc/shells || echo /bin/sh >>/etc/shells

echo "install-ftp-servers: vsftpd, pure-ftpd, proftpd ready under $DEST"
