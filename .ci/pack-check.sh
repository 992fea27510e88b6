#!/usr/bin/env bash
# Lean install check: the package as published (npm pack), installed with its
# production dependencies only, must run the real commands. ftp-srv and
# selfsigned are development dependencies (the demo's NAS and the simulator's
# certificates); a production install without them runs everything but the
# demo, which exits 2 saying how to get them. Needs dist/ buildable (npm ci
# first: npm pack runs the prepare script) and the npm registry, nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "pack-check: $*" >&2
  exit 1
}

echo "== npm pack"
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
[ -f "$work/$tarball" ] || fail "npm pack made no tarball"

echo "== install $tarball with production dependencies only"
npm install -g --prefix "$work/prefix" --omit=dev --no-audit --no-fund "$work/$tarball" >/dev/null
bin="$work/prefix/bin/pve-ftp-backup"
[ -x "$bin" ] || fail "no pve-ftp-backup on the prefix's bin/"
installed="$work/prefix/lib/node_modules/pve-ftp-backup"
for dev in ftp-srv selfsigned typescript vitest; do
  [ ! -e "$installed/node_modules/$dev" ] || fail "development dependency $dev was installed"
done

# Every command from a directory without config: only the demo's packages may be missing.
cd "$work"
export PVE_FTP_BACKUP_CONFIG="$work/no-such-config.yaml"

echo "== pve-ftp-backup --help"
"$bin" --help >help.txt || fail "--help failed"
grep -q 'pve-ftp-backup run' help.txt || fail "--help does not list run"

echo "== pve-ftp-backup config schema"
"$bin" config schema >schema.json || fail "config schema failed"
node -e 'const s = JSON.parse(require("fs").readFileSync("schema.json", "utf8")); if (!s.properties?.clusters) process.exit(1);' ||
  fail "config schema printed no JSON Schema"

echo "== pve-ftp-backup hook"
"$bin" hook >hook.sh || fail "hook failed"
head -n 1 hook.sh | grep -q '^#!/bin/sh' || fail "hook printed no script"

# run, list, generations load all their modules before they look for the config:
# exit 2 naming the missing file proves they start without the development dependencies.
for cmd in run list generations; do
  echo "== pve-ftp-backup $cmd (no config: exit 2)"
  code=0
  "$bin" "$cmd" >out.txt 2>&1 || code=$?
  [ "$code" = 2 ] || fail "$cmd exited $code, expected 2: $(cat out.txt)"
  grep -q 'no-such-config.yaml' out.txt || fail "$cmd did not name the missing config: $(cat out.txt)"
done

echo "== pve-ftp-backup demo (its packages are not installed: exit 2 with a hint)"
code=0
"$bin" demo >demo.txt 2>&1 || code=$?
[ "$code" = 2 ] || fail "demo exited $code, expected 2: $(cat demo.txt)"
grep -q 'npm ci' demo.txt || fail "demo did not say how to get its packages: $(cat demo.txt)"

echo "pack-check: ok"
