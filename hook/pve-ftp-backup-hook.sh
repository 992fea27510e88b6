#!/bin/sh
# pve-ftp-backup vzdump hook: pushes each finished backup archive and its log
# from this Proxmox VE node to the FTP NAS, into {dir}/{node}/transfer/.
#
# Install once per node (see `pve-ftp-backup hook --help`):
#   - this file as /usr/local/lib/pve-ftp-backup/hook, mode 0755, owner root;
#   - `script: /usr/local/lib/pve-ftp-backup/hook` in /etc/vzdump.conf;
#   - /etc/pve-ftp-backup/hook.conf, mode 0600, from
#     `pve-ftp-backup hook --config --node NAME`.
#
# Only sh, curl and coreutils are used: they are on every stock PVE node.
# vzdump runs this as `hook PHASE [MODE VMID]` with an environment of its own
# (no PATH, no HOME) and copies every line printed here into the task log,
# so nothing below ever prints or passes on the command line a password.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
HOME=${HOME:-/root}
LC_ALL=C
export PATH HOME LC_ALL
# Files made here (netrc, curl output) are for root's eyes only.
umask 077
set -u

ME=pve-ftp-backup-hook
CR=$(printf '\r')

say() {
  printf '%s: %s\n' "$ME" "$*"
}

# --- configuration --------------------------------------------------------
# hook.conf holds `key=value` lines; the value is everything after the first
# `=`, taken literally to the end of the line (a trailing CR is dropped).
# It is parsed, never sourced: a password with $, quotes or backticks is data.
# Lines that are empty or start with `#` are ignored; a later key wins.

# conf_read FILE: sets the cf_* variables; on error sets conf_error, returns 1.
conf_read() {
  cf_node='' cf_host='' cf_port=21 cf_user='' cf_password='' cf_secure=no
  cf_dir='' cf_storage='' cf_upload_at=log-end cf_cafile='' cf_insecure=no
  cf_retries=3 cf_retry_delay=10 cf_connect_timeout=30 cf_stall_timeout=120
  conf_error=''
  _cf_path=$1
  if [ ! -f "$1" ] || [ ! -r "$1" ]; then
    conf_error="cannot read the config file $1"
    return 1
  fi
  _n=0
  while IFS= read -r _line || [ -n "$_line" ]; do
    _n=$((_n + 1))
    _line=${_line%"$CR"}
    case $_line in
    '' | '#'*) continue ;;
    *=*) ;;
    *)
      conf_error="$1 line $_n: expected key=value"
      return 1
      ;;
    esac
    _key=${_line%%=*}
    _value=${_line#*=}
    case $_key in
    node) cf_node=$_value ;;
    host) cf_host=$_value ;;
    port) cf_port=$_value ;;
    user) cf_user=$_value ;;
    password) cf_password=$_value ;;
    secure) cf_secure=$_value ;;
    dir) cf_dir=$_value ;;
    storage) cf_storage=$_value ;;
    upload_at) cf_upload_at=$_value ;;
    cafile) cf_cafile=$_value ;;
    insecure) cf_insecure=$_value ;;
    retries) cf_retries=$_value ;;
    retry_delay) cf_retry_delay=$_value ;;
    connect_timeout) cf_connect_timeout=$_value ;;
    stall_timeout) cf_stall_timeout=$_value ;;
    *)
      # The key never holds the value, so naming it cannot leak a secret.
      conf_error="$1 line $_n: unknown key '$_key'"
      return 1
      ;;
    esac
  done <"$1"
  conf_check "$1"
}

# conf_bool NAME VALUE: normalises a yes/no value into yes or no.
conf_bool() {
  case $2 in
  yes | true | 1) _bool=yes ;;
  no | false | 0) _bool=no ;;
  *)
    conf_error="$_cf_path: $1 must be yes or no"
    return 1
    ;;
  esac
}

conf_uint() {
  case $2 in
  '' | *[!0-9]*)
    conf_error="$_cf_path: $1 must be a whole number"
    return 1
    ;;
  esac
}

conf_check() {
  for _k in node host user password dir storage; do
    eval "_v=\$cf_$_k"
    if [ -z "$_v" ]; then
      conf_error="$1: $_k is missing or empty"
      return 1
    fi
  done
  conf_uint port "$cf_port" || return 1
  if [ "$cf_port" -lt 1 ] || [ "$cf_port" -gt 65535 ]; then
    conf_error="$1: port must be 1-65535"
    return 1
  fi
  for _k in retries retry_delay connect_timeout stall_timeout; do
    eval "_v=\$cf_$_k"
    conf_uint "$_k" "$_v" || return 1
  done
  conf_bool secure "$cf_secure" || return 1
  cf_secure=$_bool
  conf_bool insecure "$cf_insecure" || return 1
  cf_insecure=$_bool
  case $cf_upload_at in
  log-end | backup-end) ;;
  *)
    conf_error="$1: upload_at must be log-end or backup-end"
    return 1
    ;;
  esac
  case $cf_dir in
  /*) ;;
  *)
    conf_error="$1: dir must be an absolute path"
    return 1
    ;;
  esac
  case /$cf_node/ in
  */../* | */./* | *//*)
    conf_error="$1: node is not a plain name"
    return 1
    ;;
  esac
  return 0
}

# --- helpers --------------------------------------------------------------

# urlencode STRING: %-encodes every byte but unreserved ones and `/`, so names
# with spaces or UTF-8 survive the URL (quote commands get the raw names).
urlencode() {
  _s=$1
  _out=''
  while [ -n "$_s" ]; do
    _rest=${_s#?}
    _c=${_s%"$_rest"}
    _s=$_rest
    case $_c in
    [A-Za-z0-9._~/-]) _out=$_out$_c ;;
    *) _out=$_out$(printf '%%%02X' "'$_c") ;;
    esac
  done
  printf '%s' "$_out"
}

# netrc_token STRING: a netrc token. Plain when it can be (any curl reads
# that, even the old ones of PVE 3-7); quoted, with \ and " escaped, only when
# it holds whitespace or starts with a quote or # (needs curl >= 7.84).
netrc_token() {
  case $1 in
  '' | '"'* | '#'* | *[\ \	]*) ;;
  *)
    printf '%s' "$1"
    return
    ;;
  esac
  _s=$1
  _out=''
  while [ -n "$_s" ]; do
    _rest=${_s#?}
    _c=${_s%"$_rest"}
    _s=$_rest
    case $_c in
    \" | \\) _out=$_out\\$_c ;;
    *) _out=$_out$_c ;;
    esac
  done
  printf '"%s"' "$_out"
}

# curl_meaning CODE: what a curl exit code means, for when stderr is empty.
curl_meaning() {
  case $1 in
  6) printf 'cannot resolve the host' ;;
  7) printf 'cannot connect (server down or port closed)' ;;
  9) printf 'access to the remote directory denied' ;;
  18) printf 'transfer cut short' ;;
  25) printf 'the server refused the upload (disk full or no permission?)' ;;
  28) printf 'timed out' ;;
  35) printf 'TLS handshake failed' ;;
  55 | 56) printf 'connection lost' ;;
  60 | 77) printf 'server certificate not trusted' ;;
  64) printf 'the server does not offer TLS' ;;
  67) printf 'login denied (user or password wrong)' ;;
  *) printf 'curl exit code %s' "$1" ;;
  esac
}

# fail_from_curl RC: sets fail_reason from curl's own error line or its code.
fail_from_curl() {
  fail_reason=''
  # curl's own line is `curl: (N) reason`; some errors (certificates) add
  # advice lines after it, so take the first such line, not the last line.
  if [ -s "$TMP/err" ]; then
    while IFS= read -r _l || [ -n "$_l" ]; do
      _l=${_l%"$CR"}
      case $_l in
      'curl: ('*)
        fail_reason=$_l
        break
        ;;
      esac
    done <"$TMP/err"
  fi
  [ -n "$fail_reason" ] || fail_reason="curl: ($1) $(curl_meaning "$1")"
  # A server could echo what it was sent; never let the password through.
  case $fail_reason in
  *"$cf_password"*) fail_reason="curl: ($1) $(curl_meaning "$1")" ;;
  esac
}

# retryable RC: whether another attempt may help (network trouble, a short
# transfer), as opposed to a wrong password or an untrusted certificate.
retryable() {
  case $1 in
  7 | 12 | 13 | 14 | 15 | 18 | 25 | 28 | 52 | 55 | 56 | 79 | size) return 0 ;;
  *) return 1 ;;
  esac
}

# ftp CURL-ARGS...: curl with the settings every request shares.
ftp() {
  if [ "$cf_secure" = yes ]; then
    if [ "$cf_insecure" = yes ]; then
      set -- --ssl-reqd -k "$@"
    elif [ -n "$cf_cafile" ]; then
      set -- --ssl-reqd --cacert "$cf_cafile" "$@"
    else
      set -- --ssl-reqd "$@"
    fi
  fi
  # -q first: ignore any ~/.curlrc; -sS: no progress, but errors on stderr.
  curl -q -sS --netrc-file "$TMP/netrc" --connect-timeout "$cf_connect_timeout" \
    --speed-limit 1 --speed-time "$cf_stall_timeout" "$@" >"$TMP/out" 2>"$TMP/err"
}

# remote_size URL: sets rsize to the remote file's size, or '' when it does
# not exist (or its directory does not); returns curl's code on other errors.
remote_size() {
  rsize=''
  ftp -I "$1"
  _rc=$?
  case $_rc in
  0) ;;
  9 | 19 | 78) return 0 ;;
  *) return "$_rc" ;;
  esac
  while IFS= read -r _l || [ -n "$_l" ]; do
    _l=${_l%"$CR"}
    case $_l in
    [Cc]ontent-[Ll]ength:*)
      rsize=${_l#*:}
      rsize=${rsize# }
      ;;
    esac
  done <"$TMP/out"
  case $rsize in
  *[!0-9]*) rsize='' ;;
  esac
  return 0
}

# try_upload FILE NAME SIZE: one attempt. Uploads to NAME.part (resuming a
# shorter one), checks the size, then renames. A .part larger than the file is
# stale (curl's resume would rename it into place with exit 0): delete it.
try_upload() {
  _part=$2.part
  _url=$BASE_URL$(urlencode "$_part")
  if ! remote_size "$_url"; then
    rc=$_rc
    fail_from_curl "$rc"
    return 1
  fi
  if [ -n "$rsize" ] && [ "$rsize" -gt "$3" ]; then
    ftp -I "$_url" -Q "-DELE $_part"
    rc=$?
    if [ "$rc" -ne 0 ]; then
      fail_from_curl "$rc"
      return 1
    fi
    rsize=''
  fi
  if [ "$rsize" != "$3" ]; then
    ftp --ftp-create-dirs -C - -T "$1" "$_url"
    rc=$?
    if [ "$rc" -ne 0 ]; then
      fail_from_curl "$rc"
      return 1
    fi
    if ! remote_size "$_url"; then
      rc=$_rc
      fail_from_curl "$rc"
      return 1
    fi
  fi
  if [ "$rsize" != "$3" ]; then
    rc=size
    fail_reason="size on the server is ${rsize:-unknown}, expected $3 bytes"
    return 1
  fi
  # Rename onto an existing file overwrites silently on every server: that is
  # wanted here, the size of what replaces it was just checked.
  ftp -I "$_url" -Q "-RNFR $_part" -Q "-RNTO $2"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    fail_from_curl "$rc"
    return 1
  fi
  return 0
}

# upload FILE: pushes FILE into the node's transfer dir; one line either way.
upload() {
  _file=$1
  _name=${_file##*/}
  _size=$(wc -c <"$_file") || {
    say "ERROR: cannot read $_file"
    return 1
  }
  _size=$((_size + 0))
  _attempt=0
  while :; do
    _attempt=$((_attempt + 1))
    if try_upload "$_file" "$_name" "$_size"; then
      say "uploaded $_name ($_size bytes) to $WHERE"
      return 0
    fi
    if [ "$_attempt" -gt "$cf_retries" ] || ! retryable "$rc"; then
      say "ERROR: upload of $_name to $WHERE failed after $_attempt attempt(s): $fail_reason"
      return 1
    fi
    sleep "$cf_retry_delay"
  done
}

# log_for ARCHIVE: the .log vzdump writes beside an archive (no extension).
log_for() {
  _b=$1
  for _ext in .zst .gz .lzo .bz2 .tar .vma .tgz; do
    _b=${_b%"$_ext"}
  done
  printf '%s.log' "$_b"
}

setup() {
  # vzdump passes no TMPDIR, so this is /tmp on a node; tests point it elsewhere.
  _tmpbase=${TMPDIR:-/tmp}
  # A run killed by SIGKILL (a task stop sends it 5 s after SIGTERM, e.g. to
  # a curl stuck reading) could not remove its netrc: remove those of runs
  # that are gone. The pid in the name keeps live runs' dirs alone.
  for _d in "$_tmpbase/$ME".*; do
    _p=${_d#"$_tmpbase/$ME."}
    _p=${_p%%.*}
    case $_p in
    '' | *[!0-9]*) continue ;;
    esac
    kill -0 "$_p" 2>/dev/null || rm -rf "$_d"
  done
  TMP=$(mktemp -d "$_tmpbase/$ME.$$.XXXXXXXX") || {
    say "ERROR: cannot create a private temp directory"
    exit 1
  }
  _machine=$cf_host
  _hostport=$cf_host
  case $cf_host in
  *:*) _hostport="[$cf_host]" ;;
  esac
  # printf is a shell builtin: the password never shows in a process list.
  # One printf, checked: a full TMPDIR would leave the netrc empty, and curl
  # would then log in as anonymous and report "login denied".
  if ! printf 'machine %s\nlogin %s\npassword %s\n' "$(netrc_token "$_machine")" \
    "$(netrc_token "$cf_user")" "$(netrc_token "$cf_password")" 2>/dev/null >"$TMP/netrc"; then
    say "ERROR: cannot write to ${TMPDIR:-/tmp} (disk full?); nothing uploaded"
    exit 1
  fi
  REMOTE_DIR=${cf_dir%/}/$cf_node/transfer
  WHERE="ftp://$_hostport:$cf_port$REMOTE_DIR/"
  # %2F: the path is absolute, not relative to the FTP user's login dir.
  BASE_URL="ftp://$_hostport:$cf_port/%2F$(urlencode "${REMOTE_DIR#/}")/"
}

cleanup() {
  if [ -n "${TMP:-}" ]; then
    rm -rf "$TMP"
  fi
}

main() {
  phase=${1:-}
  case $phase in
  backup-end | log-end) ;;
  # Every other phase, including those of PVE releases newer than this
  # script, is none of our business: exit 0 so the job goes on.
  *) exit 0 ;;
  esac
  # No STOREID: a backup to a plain dumpdir, never our staging storage.
  [ -n "${STOREID:-}" ] || exit 0

  CONF_FILE=${PVE_FTP_BACKUP_HOOK_CONF:-/etc/pve-ftp-backup/hook.conf}
  if ! conf_read "$CONF_FILE"; then
    # backup-end cannot tell whether it is meant to upload; complain once, at
    # log-end, where a failure cannot fail the backup.
    [ "$phase" = log-end ] || exit 0
    say "ERROR: $conf_error"
    exit 1
  fi
  [ "$STOREID" = "$cf_storage" ] || exit 0
  # In log-end mode backup-end is not ours: decide before anything that can
  # fail (curl, the temp dir), since a non-zero exit here fails the backup.
  if [ "$phase" = backup-end ] && [ "$cf_upload_at" != backup-end ]; then
    exit 0
  fi

  archive=${TARGET:-${TARFILE:-}}
  if [ -z "$archive" ] || [ "$archive" = - ]; then
    say "no archive path from vzdump (TARGET unset); nothing to upload"
    exit 0
  fi
  logfile=${LOGFILE:-}
  [ -n "$logfile" ] || logfile=$(log_for "$archive")

  if ! command -v curl >/dev/null 2>&1; then
    say "ERROR: curl not found; cannot upload $archive"
    exit 1
  fi

  TMP=''
  trap cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  setup

  if [ "$phase" = backup-end ]; then
    if [ ! -f "$archive" ]; then
      say "ERROR: archive $archive not found; nothing to upload to $WHERE"
      exit 1
    fi
    upload "$archive" || exit 1
    exit 0
  fi

  # log-end: the guest is released, the .log exists now.
  if [ "$cf_upload_at" = log-end ]; then
    if [ -f "$archive" ]; then
      upload "$archive" || exit 1
    else
      say "archive ${archive##*/} not found (the backup failed?); uploading its log only"
    fi
  fi
  if [ -f "$logfile" ]; then
    upload "$logfile" || exit 1
  else
    say "log ${logfile##*/} not found; nothing more to upload"
  fi
  exit 0
}

# Sourcing with PVE_FTP_BACKUP_HOOK_LIB=1 defines the functions only (tests
# use it to run conf_read); vzdump never sets it.
if [ -z "${PVE_FTP_BACKUP_HOOK_LIB:-}" ]; then
  main "$@"
fi
