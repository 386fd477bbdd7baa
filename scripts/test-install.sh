#!/usr/bin/env bash
# Tests scripts/install.sh for real: installs the debug build into a temp
# --destdir (prefix /usr), checks every file it should put there, then runs
# the installed binaries (the installed config validates; the installed
# sidecard serves and the installed sidecarctl reaches it), renders the man
# pages, loads the bash completion, checks the units with systemd-analyze,
# and installs again over a changed config, which must be kept.
# scripts/test.sh runs it after the other tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/sidecar-install-XXXXXX)
daemon=
cleanup() { [ -z "$daemon" ] || kill "$daemon" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
dest=$work/root

"$root/scripts/install.sh" --destdir "$dest" --prefix /usr --configuration debug > "$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "install.sh exited with $?"; }

expect_file() { # PATH MODE
  [ -f "$dest$1" ] || fail "missing $1"
  [ "$(stat -c %a "$dest$1")" = "$2" ] || fail "$1 has mode $(stat -c %a "$dest$1"), not $2"
}
for tool in sidecard sidecarctl; do
  expect_file /usr/bin/$tool 755
  expect_file /usr/share/bash-completion/completions/$tool 644
  expect_file /usr/share/zsh/site-functions/_$tool 644
  expect_file /usr/share/fish/vendor_completions.d/$tool.fish 644
  expect_file /usr/share/man/man1/$tool.1 644
done
for page in ensure-image scrub version retry.reserve check-db; do expect_file /usr/share/man/man1/sidecarctl.$page.1 644; done
expect_file /etc/sidecar/sidecar.toml 644
expect_file /etc/systemd/system/sidecard.service 644
expect_file /etc/systemd/system/sidecard.socket 644
expect_file /etc/systemd/system/sidecard.service.d/hardening.conf 644
expect_file /usr/share/doc/sidecar/README.md 644
expect_file /usr/share/doc/sidecar/docs/daemon.md 644
cmp -s "$dest/etc/sidecar/sidecar.toml" "$root/examples/sidecar.toml" || fail "the installed config is not the example"

unit=$dest/etc/systemd/system/sidecard.service
grep -qx 'ExecStart=/usr/bin/sidecard --config /etc/sidecar/sidecar.toml' "$unit" || fail "ExecStart does not point at the prefix"
grep -qx 'LimitNOFILE=65536' "$unit" || fail "no LimitNOFILE=65536"
grep -qx 'KillMode=mixed' "$unit" || fail "no KillMode=mixed"
if command -v systemd-analyze >/dev/null; then
  # The binaries are not at /usr/bin yet (they are under the destdir): only
  # that may be reported.
  for file in "$unit" "$dest/etc/systemd/system/sidecard.socket"; do
    report=$(systemd-analyze verify "$file" 2>&1 | grep -v -e 'is not executable' -e 'sysinit.target' || true)
    [ -z "$report" ] || fail "systemd-analyze verify $(basename "$file"): $report"
  done
fi

"$dest/usr/bin/sidecard" --config "$dest/etc/sidecar/sidecar.toml" --check-config > "$work/check.txt" ||
  fail "the installed config does not validate: $(cat "$work/check.txt")"
"$dest/usr/bin/sidecard" --config "$dest/etc/sidecar/sidecar.toml" --socket "$work/s.sock" --state-dir "$work/state" \
  > "$work/daemon.log" 2>&1 &
daemon=$!
"$dest/usr/bin/sidecarctl" --socket "$work/s.sock" version > "$work/version.txt" || fail "installed sidecarctl version: $(cat "$work/version.txt")"
grep -q '^sidecarctl .* (protocol ' "$work/version.txt" && grep -q "^sidecard .* on $work/s.sock" "$work/version.txt" ||
  fail "version says: $(cat "$work/version.txt")"

man -l "$dest/usr/share/man/man1/sidecarctl.ensure-image.1" 2>/dev/null | grep -q -- '--lease' || fail "the ensure-image man page does not render"
bash -c "source '$dest/usr/share/bash-completion/completions/sidecarctl' && complete -p sidecarctl" > /dev/null ||
  fail "the bash completion does not load"

echo "# changed by the operator" >> "$dest/etc/sidecar/sidecar.toml"
"$root/scripts/install.sh" --destdir "$dest" --prefix /usr --configuration debug > "$work/install2.log" 2>&1 || fail "second install"
grep -q '^# changed by the operator' "$dest/etc/sidecar/sidecar.toml" || fail "a second install overwrote the config"
echo "test-install: ok ($(find "$dest" -type f | wc -l) files)"
