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

# vzdump runs this for every phase of every guest; only backup-end, log-end
# and the admin's fetch do anything. Leave before the rest is even read.
case ${1:-} in
backup-end | log-end | fetch) ;;
*) [ -n "${PVE_FTP_BACKUP_HOOK_LIB:-}" ] || exit 0 ;;
esac

# The curl to run (tests point it at a stand-in for an old curl).
CURL=${PVE_FTP_BACKUP_HOOK_CURL:-curl}

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
  cf_limit_rate=0
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
    limit_rate) cf_limit_rate=$_value ;;
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
  # curl's --limit-rate: bytes per second, k/m/g suffix; 0 is no cap.
  case $cf_limit_rate in
  '' | *[!0-9kKmMgG]* | [!0-9]* | *[kKmMgG]?*)
    conf_error="$1: limit_rate must be a number of bytes per second, optionally with k, m or g (0: no limit)"
    return 1
    ;;
  esac
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
  # 36 and 63: the size check found a .part of the wrong size.
  7 | 12 | 13 | 14 | 15 | 18 | 25 | 28 | 36 | 52 | 55 | 56 | 63 | 79) return 0 ;;
  *) return 1 ;;
  esac
}

# --- the upload session -----------------------------------------------------
# A cheap NAS limits connections and throttles logins, so every file of a
# guest goes over ONE curl run, i.e. one login: requests chained with --next
# reuse the connection. Paths are absolute and --ftp-method nocwd sends them
# whole, so there is no CWD at all. Each file takes two requests:
#   1. upload to NAME.part (the archive resumes a shorter .part: -C -);
#   2. the size check and the rename: a "download" of NAME.part resuming at
#      the local size, capped at the local size. curl asks the server SIZE and
#      fails when the .part is larger (63) or shorter (36); only at the exact
#      size does it transfer nothing and run the post-quote RNFR/RNTO.
# --fail-early stops the chain at the first failure, so a file is renamed
# into place only after its own check, and NAME.sha256 only after NAME.
# (A .part larger than the archive makes curl's resume report "already
# uploaded" with exit 0: step 2 is what keeps it out of place.)
# curl before 7.52 (PVE 3.x-4.x) has no --fail-early (nor --next before
# 7.36): it refuses the chained run before connecting (exit 2, "option
# --fail-early: is unknown"), and from then on each request is a curl run of
# its own, stopping at the first failure, which costs a login per request but
# checks the same way. Asking `curl --version` first would cost every guest a
# curl start (~25 ms) to spare the old nodes one.

# too_old_to_chain: whether the last curl run refused the chain's options.
too_old_to_chain() {
  _e=$(cat "$TMP/err" 2>/dev/null) || return 1
  case $_e in
  *'--fail-early'*unknown* | *'--next'*unknown*) return 0 ;;
  esac
  return 1
}

# add_file PATH NAME SIZE KIND: queues a file; KIND is archive, sha or log.
add_file() {
  nfiles=$((nfiles + 1))
  eval "f${nfiles}_path=\$1 f${nfiles}_name=\$2 f${nfiles}_size=\$3 f${nfiles}_kind=\$4"
}

# run_session: one curl run for queued files session_from..nfiles.
run_session() {
  _i=$session_from
  set --
  : >"$TMP/out"
  while [ "$_i" -le "$nfiles" ]; do
    eval "_p=\$f${_i}_path _n=\$f${_i}_name _s=\$f${_i}_size _k=\$f${_i}_kind"
    _rpart=$REMOTE_DIR/$_n.part
    _url=$BASE_URL$(urlencode "$_n.part")
    for _step in up ok; do
      # --next resets every option but the global ones: repeat them.
      if [ "$#" -gt 0 ]; then
        if [ "$CHAINS" = yes ]; then
          set -- "$@" --next
        else
          "$CURL" -q -sS "$@" >>"$TMP/out" 2>"$TMP/err" || return
          set --
        fi
      fi
      set -- "$@" --netrc-file "$TMP/netrc" --connect-timeout "$cf_connect_timeout" \
        --speed-limit 1 --speed-time "$cf_stall_timeout" --ftp-method nocwd
      if [ "$cf_secure" = yes ]; then
        set -- "$@" --ssl-reqd
        if [ "$cf_insecure" = yes ]; then
          set -- "$@" -k
        elif [ -n "$cf_cafile" ]; then
          set -- "$@" --cacert "$cf_cafile"
        fi
      fi
      [ "$cf_limit_rate" = 0 ] || set -- "$@" --limit-rate "$cf_limit_rate"
      # -w marks each finished request on stdout: how far the session got.
      set -- "$@" -w "$_i $_step\n"
      if [ "$_step" = ok ]; then
        if [ "$_s" -gt 0 ]; then
          set -- "$@" -C "$_s" --max-filesize "$_s"
        else
          # --max-filesize 0 means no cap; an empty file was sent whole just now.
          set -- "$@" -I
        fi
        set -- "$@" -o /dev/null -Q "-RNFR $_rpart" -Q "-RNTO $REMOTE_DIR/$_n" "$_url"
        continue
      fi
      if [ "$_i" -eq "$session_from" ] && [ "$make_dirs" = yes ]; then
        # No CWD means curl cannot create the dirs itself: MKD each level,
        # `*` ignoring "exists" (a real failure shows at the upload).
        _rest=${REMOTE_DIR#/}
        _d=''
        while [ -n "$_rest" ]; do
          _c=${_rest%%/*}
          case $_rest in
          */*) _rest=${_rest#*/} ;;
          *) _rest='' ;;
          esac
          [ -n "$_c" ] || continue
          _d=$_d/$_c
          set -- "$@" -Q "*MKD $_d"
        done
      fi
      # An empty file is sent whole: resuming it would take any .part as done.
      if [ "$_k" = archive ] && [ "$_s" -gt 0 ]; then
        # Only a .part found larger than the archive (last session) is
        # deleted: a shorter one is resumed.
        [ "$stale_dele" != "$_i" ] || set -- "$@" -Q "*DELE $_rpart"
        set -- "$@" -C -
      fi
      set -- "$@" -T "$_p" "$_url"
    done
    _i=$((_i + 1))
  done
  # -q first: ignore any ~/.curlrc; -sS: no progress, but errors on stderr.
  if [ "$CHAINS" = yes ]; then
    "$CURL" -q -sS --fail-early "$@" >"$TMP/out" 2>"$TMP/err"
  else
    "$CURL" -q -sS "$@" >>"$TMP/out" 2>"$TMP/err"
  fi
}

# archive_sha256: prints the archive's sha256 in hex. openssl (on every PVE
# node: ca-certificates needs it) uses the CPU's SHA instructions and hashes
# about 2.5 times as fast as coreutils' sha256sum, which is the fallback.
archive_sha256() {
  _h=''
  if command -v openssl >/dev/null 2>&1; then
    # `SHA256(stdin)= HEX` or `(stdin)= HEX`, by version: the last word.
    _h=$(openssl dgst -sha256 <"$archive" 2>/dev/null) && _h=${_h##* }
  fi
  case $_h in
  *[!0-9a-f]* | '') _h=$(sha256sum <"$archive") && _h=${_h%% *} ;;
  esac
  [ "${#_h}" -eq 64 ] || return 1
  printf '%s\n' "$_h"
}

# start_sha_writer INDEX: the .sha256 line of the archive is written into a
# fifo that curl reads as that file's upload. The hash runs here, beside the
# archive's upload (reading it from the page cache on the other core), so it
# costs next to no task time; curl blocks on the fifo only if it is slower.
start_sha_writer() {
  sha_pid=''
  [ "$session_from" -le "$1" ] || return 0
  rm -f "$TMP/sha.fifo"
  mkfifo "$TMP/sha.fifo" || return 1
  (
    [ -s "$TMP/hash" ] || archive_sha256 >"$TMP/hash"
    _h=''
    [ -s "$TMP/hash" ] && read -r _h <"$TMP/hash"
    # sha256sum's own format, so `sha256sum -c` works on the NAS side.
    printf '%s  %s\n' "$_h" "${archive##*/}" >"$TMP/sha.fifo"
  ) &
  sha_pid=$!
}

stop_sha_writer() {
  if [ -n "${sha_pid:-}" ]; then
    # Still blocked on the fifo when curl stopped before reading it.
    kill "$sha_pid" 2>/dev/null
    wait "$sha_pid" 2>/dev/null
    sha_pid=''
  fi
}

# upload_all: sends the queued files; one line per file uploaded, one line on
# failure. A failed session is retried from the first file not yet in place.
upload_all() {
  session_from=1
  stale_dele=''
  _attempt=0
  _stale_seen=''
  # The tool makes transfer/ when a node run starts, so the first session
  # sends no MKD; only an upload refused there (curl 25: the dir may be
  # missing, e.g. vzdump run by hand) is tried again at once with them.
  # Over FTPS curl does not fail a refused STOR at once on every server
  # (proftpd: it waits out the stall timeout), so FTPS keeps the MKDs.
  make_dirs=no
  [ "$cf_secure" != yes ] || make_dirs=yes
  while :; do
    _attempt=$((_attempt + 1))
    start_sha_writer "$sha_index" || {
      say "ERROR: cannot create a fifo in ${TMPDIR:-/tmp}; nothing uploaded"
      return 1
    }
    run_session "$session_from"
    rc=$?
    stop_sha_writer
    if [ "$rc" -eq 2 ] && [ "$CHAINS" = yes ] && too_old_to_chain; then
      # Nothing was sent: the same session again, one run per request.
      CHAINS=no
      _attempt=$((_attempt - 1))
      continue
    fi
    stale_dele=''
    # Which requests finished: the last -w line is the one that failed
    # (curl writes it on failure too).
    _last='' _done=$((session_from - 1))
    _prev=''
    while IFS= read -r _l || [ -n "$_l" ]; do
      [ -z "$_prev" ] || _mark_done "$_prev"
      _prev=$_l
    done <"$TMP/out"
    if [ "$rc" -eq 0 ]; then
      [ -z "$_prev" ] || _mark_done "$_prev"
      return 0
    fi
    _last=$_prev
    session_from=$((_done + 1))
    eval "_n=\$f${session_from}_name _s=\$f${session_from}_size _k=\$f${session_from}_kind"
    fail_from_curl "$rc"
    if [ "$make_dirs" = no ] && [ "$_last" = "$session_from up" ]; then
      # Whatever failed the first upload, the sessions after it make the dirs.
      make_dirs=yes
      if [ "$rc" -eq 25 ]; then
        _attempt=$((_attempt - 1))
        continue
      fi
    fi
    if [ "$_last" = "$session_from ok" ]; then
      case $rc in
      63)
        if [ "$_k" = archive ] && [ -z "$_stale_seen" ]; then
          # A stale .part from another archive of that name: delete it and
          # start over, once, without waiting or counting an attempt.
          _stale_seen=yes
          stale_dele=$session_from
          _attempt=$((_attempt - 1))
          continue
        fi
        fail_reason="$_n.part on the server is larger than $_s bytes"
        ;;
      36) fail_reason="$_n.part on the server is shorter than $_s bytes" ;;
      esac
    fi
    if [ "$_attempt" -gt "$cf_retries" ] || ! retryable "$rc"; then
      say "ERROR: upload of $_n to $WHERE failed after $_attempt attempt(s): $fail_reason"
      return 1
    fi
    sleep "$cf_retry_delay"
  done
}

# _mark_done LINE: a request that finished; "K ok" means file K is in place.
_mark_done() {
  case $1 in
  *' ok')
    _done=${1% ok}
    eval "_n=\$f${_done}_name _s=\$f${_done}_size _k=\$f${_done}_kind"
    [ "$_k" = sha ] || say "uploaded $_n ($_s bytes) to $WHERE"
    ;;
  esac
}

# log_for ARCHIVE: the .log vzdump writes beside an archive (no extension).
log_for() {
  _b=$1
  for _ext in .zst .gz .lzo .bz2 .tar .vma .tgz; do
    _b=${_b%"$_ext"}
  done
  printf '%s.log' "$_b"
}

# private_tmp VERB: a private temp dir holding the netrc for this run; VERB
# (uploaded, fetched) completes the error line when that is impossible.
private_tmp() {
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
    say "ERROR: cannot write to ${TMPDIR:-/tmp} (disk full?); nothing $1"
    exit 1
  fi
}

setup() {
  private_tmp uploaded
  REMOTE_DIR=${cf_dir%/}/$cf_node/transfer
  WHERE="ftp://$_hostport:$cf_port$REMOTE_DIR/"
  # %2F: the path is absolute, not relative to the FTP user's login dir.
  BASE_URL="ftp://$_hostport:$cf_port/%2F$(urlencode "${REMOTE_DIR#/}")/"
}

cleanup() {
  stop_sha_writer
  if [ -n "${TMP:-}" ]; then
    rm -rf "$TMP"
  fi
}

main() {
  phase=${1:-}
  # Not a vzdump phase: the admin's way back (see fetch_main).
  if [ "$phase" = fetch ]; then
    shift
    fetch_main "$@"
  fi
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

  if ! command -v "$CURL" >/dev/null 2>&1; then
    say "ERROR: curl not found; cannot upload $archive"
    exit 1
  fi

  TMP=''
  trap cleanup EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  setup

  nfiles=0
  sha_index=0
  CHAINS=yes
  if [ "$phase" = backup-end ] || [ "$cf_upload_at" = log-end ]; then
    if [ -f "$archive" ]; then
      queue_archive "$archive" || exit 1
    elif [ "$phase" = backup-end ]; then
      say "ERROR: archive $archive not found; nothing to upload to $WHERE"
      exit 1
    else
      say "archive ${archive##*/} not found (the backup failed?); uploading its log only"
    fi
  fi
  # log-end: the guest is released, the .log exists now.
  if [ "$phase" = log-end ]; then
    if [ -f "$logfile" ]; then
      queue_file "$logfile" log || exit 1
    else
      say "log ${logfile##*/} not found; nothing more to upload"
    fi
  fi
  [ "$nfiles" -eq 0 ] || upload_all || exit 1
  exit 0
}

# queue_file FILE KIND: queues FILE for the session, with its size now.
queue_file() {
  _size=$(wc -c <"$1") || {
    say "ERROR: cannot read $1"
    return 1
  }
  add_file "$1" "${1##*/}" $((_size + 0)) "$2"
}

# queue_archive FILE: the archive, then its NAME.sha256 (`<hex>  <NAME>`,
# a fixed 64 + 2 + name + 1 bytes), which the tool reads to check the copy.
# Sent after the archive is in place, so its presence means the archive is.
queue_archive() {
  queue_file "$1" archive || return 1
  _name=${1##*/}
  add_file "$TMP/sha.fifo" "$_name.sha256" $((64 + 2 + ${#_name} + 1)) sha
  sha_index=$nfiles
}

# --- fetch: the way back ----------------------------------------------------
# `hook fetch [--from-node NODE] GENERATION FILE`, run by root on the node a
# guest is restored to (`pve-ftp-backup restore` prints the exact line):
# downloads {dir}/{NODE or this node}/GENERATION/FILE into the staging
# storage's dump directory, where PVE sees it as a backup volume. It goes to
# a temporary name first; only once its size equals the NAS copy's and its
# sha256 equals FILE.sha256 (when the NAS has one) does it get its vzdump
# name, and an existing file of that name is never overwritten. The password
# goes through the same private netrc as the upload, never argv.

# fetch_fail MESSAGE: the one error line, then exit 1 (the EXIT trap cleans up).
fetch_fail() {
  say "ERROR: $*"
  exit 1
}

# fetch_usage MESSAGE: a usage error, exit 2.
fetch_usage() {
  say "ERROR: $*; usage: hook fetch [--from-node NODE] GENERATION FILE"
  exit 2
}

# fetch_curl ARGS...: curl with the session options of hook.conf; output in
# $TMP/out, errors in $TMP/err; returns curl's exit code.
fetch_curl() {
  set -- --netrc-file "$TMP/netrc" --connect-timeout "$cf_connect_timeout" \
    --speed-limit 1 --speed-time "$cf_stall_timeout" --ftp-method nocwd "$@"
  if [ "$cf_secure" = yes ]; then
    set -- --ssl-reqd "$@"
    if [ "$cf_insecure" = yes ]; then
      set -- -k "$@"
    elif [ -n "$cf_cafile" ]; then
      set -- --cacert "$cf_cafile" "$@"
    fi
  fi
  "$CURL" -q -sS "$@" >"$TMP/out" 2>"$TMP/err"
}

# not_found RC: curl's codes for "no such file" on FTP (RETR/SIZE answered 550).
not_found() {
  case $1 in
  19 | 78) return 0 ;;
  *) return 1 ;;
  esac
}

# fetch_args ARGS...: sets f_from, f_gen, f_file, or exits 2 naming what is wrong.
fetch_args() {
  f_from=''
  case ${1:-} in
  --from-node)
    [ "$#" -ge 2 ] || fetch_usage "--from-node needs a node name"
    f_from=$2
    shift 2
    ;;
  --from-node=*)
    f_from=${1#--from-node=}
    shift
    ;;
  esac
  [ "$#" -eq 2 ] || fetch_usage "expected GENERATION and FILE"
  f_gen=$1 f_file=$2
  if [ -n "$f_from" ]; then
    case $f_from in
    *[!A-Za-z0-9.-]* | .* | -*) fetch_usage "--from-node '$f_from' is not a node name" ;;
    esac
  fi
  case $f_gen in
  transfer) ;;
  daily.* | weekly.* | monthly.*)
    case ${f_gen#*.} in
    '' | *[!0-9]*) fetch_usage "'$f_gen' is not a generation (transfer, daily.N, weekly.N, monthly.N)" ;;
    esac
    ;;
  *) fetch_usage "'$f_gen' is not a generation (transfer, daily.N, weekly.N, monthly.N)" ;;
  esac
  # Only names vzdump gives: no path, nothing PVE would not list as a backup.
  case $f_file in
  *[!A-Za-z0-9._-]* | '') _ok=no ;;
  vzdump-openvz-[0-9]*-* | vzdump-lxc-[0-9]*-* | vzdump-qemu-[0-9]*-*) _ok=yes ;;
  *) _ok=no ;;
  esac
  case $f_file in
  *.tar | *.tar.gz | *.tar.lzo | *.tar.zst | *.tgz | *.vma | *.vma.gz | *.vma.lzo | *.vma.zst) ;;
  *) _ok=no ;;
  esac
  [ "$_ok" = yes ] || fetch_usage "'$f_file' is not the name of a vzdump archive"
}

# fetch_dest: sets f_dest, where PVE keeps FILE as a backup of the staging
# storage, by asking pvesm as PVE itself resolves it.
fetch_dest() {
  # The PATH above is a node's; tests of the hook (no pvesm there) name a
  # stand-in that answers like `pvesm path`. vzdump and admins never set it.
  _pvesm=${PVE_FTP_BACKUP_HOOK_PVESM:-pvesm}
  command -v "$_pvesm" >/dev/null 2>&1 || fetch_fail "pvesm not found: run fetch on a Proxmox VE node"
  _volid=$cf_storage:backup/$f_file
  if ! f_dest=$("$_pvesm" path "$_volid" 2>&1); then
    fetch_fail "pvesm path $_volid failed: $(printf '%s' "$f_dest" | head -n 1)"
  fi
  case $f_dest in
  /*/"$f_file") ;;
  *) fetch_fail "pvesm path $_volid answered '$f_dest', not a path ending in $f_file" ;;
  esac
  [ -d "${f_dest%/*}" ] || fetch_fail "the dump directory ${f_dest%/*} of storage $cf_storage does not exist"
}

# fetch_size URL: sets f_want, the size the NAS reports for the file (FTP SIZE).
fetch_size() {
  fetch_curl -I "$1"
  _rc=$?
  if [ "$_rc" -ne 0 ]; then
    not_found "$_rc" && fetch_fail "$f_file is not in $WHERE"
    fail_from_curl "$_rc"
    fetch_fail "cannot read the size of $f_file in $WHERE: $fail_reason"
  fi
  _size=''
  while IFS= read -r _l || [ -n "$_l" ]; do
    _l=${_l%"$CR"}
    case $_l in
    [Cc]ontent-[Ll]ength:*) _size=${_l#*:} ;;
    esac
  done <"$TMP/out"
  _size=${_size# }
  case $_size in
  '' | *[!0-9]*) fetch_fail "$f_file is not in $WHERE (the server reports no size for it)" ;;
  esac
  f_want=$_size
}

# fetch_expected_sha URL: sets f_sha, the hex of FILE.sha256, or empty when
# the NAS has none (an archive saved by an older hook).
fetch_expected_sha() {
  f_sha=''
  fetch_curl -o "$TMP/sha" "$1.sha256"
  _rc=$?
  if [ "$_rc" -ne 0 ]; then
    not_found "$_rc" && return 0
    fail_from_curl "$_rc"
    fetch_fail "cannot read $f_file.sha256 from $WHERE: $fail_reason"
  fi
  _h=''
  read -r _h _rest <"$TMP/sha" || [ -n "$_h" ] || true
  case $_h in
  *[!0-9a-f]* | '') fetch_fail "$f_file.sha256 in $WHERE holds no sha256" ;;
  esac
  [ "${#_h}" -eq 64 ] || fetch_fail "$f_file.sha256 in $WHERE holds no sha256"
  f_sha=$_h
}

# fetch_download URL: the archive into $f_part, resumed across retries.
fetch_download() {
  _attempt=0
  while :; do
    _attempt=$((_attempt + 1))
    if [ -s "$f_part" ]; then
      fetch_curl -C - -o "$f_part" "$1"
    else
      fetch_curl -o "$f_part" "$1"
    fi
    _rc=$?
    [ "$_rc" -ne 0 ] || return 0
    fail_from_curl "$_rc"
    if [ "$_attempt" -gt "$cf_retries" ] || ! retryable "$_rc"; then
      fetch_fail "download of $f_file from $WHERE failed after $_attempt attempt(s): $fail_reason"
    fi
    sleep "$cf_retry_delay"
  done
}

fetch_main() {
  fetch_args "$@"
  CONF_FILE=${PVE_FTP_BACKUP_HOOK_CONF:-/etc/pve-ftp-backup/hook.conf}
  conf_read "$CONF_FILE" || fetch_fail "$conf_error"
  command -v "$CURL" >/dev/null 2>&1 || fetch_fail "curl not found; cannot fetch $f_file"
  fetch_dest
  [ ! -e "$f_dest" ] || fetch_fail "$f_dest exists already; not overwritten (remove it first to fetch again)"
  TMP=''
  f_part=''
  trap '[ -z "$f_part" ] || rm -f "$f_part"; cleanup' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  private_tmp fetched
  _src=${f_from:-$cf_node}
  _dir=${cf_dir%/}/$_src/$f_gen
  WHERE="ftp://$_hostport:$cf_port$_dir/"
  _url="ftp://$_hostport:$cf_port/%2F$(urlencode "${_dir#/}")/$(urlencode "$f_file")"
  fetch_size "$_url"
  fetch_expected_sha "$_url"
  # Not a name PVE lists as a backup: the dump dir shows nothing until it is whole.
  f_part=$f_dest.pfb-fetch.$$
  fetch_download "$_url"
  _got=$(wc -c <"$f_part") || fetch_fail "cannot read $f_part"
  _got=$((_got + 0))
  [ "$_got" -eq "$f_want" ] || fetch_fail "$f_file from $WHERE is $_got bytes, the NAS lists $f_want; not kept"
  _checked='no .sha256 on the NAS: size checked only'
  if [ -n "$f_sha" ]; then
    archive=$f_part
    _h=$(archive_sha256) || fetch_fail "cannot hash $f_part"
    [ "$_h" = "$f_sha" ] || fetch_fail "$f_file from $WHERE has sha256 $_h, its .sha256 says $f_sha; not kept"
    _checked='sha256 matches'
  fi
  # ln, unlike mv, never replaces a file that appeared meanwhile.
  if ln "$f_part" "$f_dest" 2>/dev/null; then
    rm -f "$f_part"
  elif [ -e "$f_dest" ]; then
    fetch_fail "$f_dest appeared meanwhile; not overwritten"
  else
    # A filesystem without hard links (CIFS): mv -n does not replace either.
    mv -n "$f_part" "$f_dest" 2>/dev/null
    if [ -e "$f_part" ] || [ ! -e "$f_dest" ]; then
      fetch_fail "cannot create $f_dest; not overwritten"
    fi
  fi
  f_part=''
  say "fetched $f_file ($_got bytes, $_checked) from $WHERE into ${f_dest%/*}/"
  exit 0
}

# Sourcing with PVE_FTP_BACKUP_HOOK_LIB=1 defines the functions only (tests
# use it to run conf_read); vzdump never sets it.
if [ -z "${PVE_FTP_BACKUP_HOOK_LIB:-}" ]; then
  main "$@"
fi
