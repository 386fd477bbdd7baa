#!/usr/bin/env bash
# Installs sidecard and sidecarctl: the binaries, bash, zsh and fish
# completions (ArgumentParser writes them), man pages (ArgumentParser's
# manual plugin), /etc/sidecar/sidecar.toml (the documented example; an
# existing file is kept), the systemd units and their hardening drop-in,
# and the README with the reference pages of docs/.
#
#   scripts/install.sh [--prefix DIR] [--destdir DIR] [--configuration release|debug]
#
# --prefix (default /usr/local) is where the files will live and what the
# units point at; --destdir (default none) is prepended to every path, to
# stage an install for a package. Config and units go to /etc (under
# --destdir). Builds first with `swift build -c CONFIGURATION`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
destdir=
configuration=release
usage() { echo "usage: scripts/install.sh [--prefix DIR] [--destdir DIR] [--configuration release|debug]" >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    --destdir) [ $# -ge 2 ] || usage; destdir=$2; shift 2 ;;
    --configuration) [ $# -ge 2 ] || usage; configuration=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "install: unknown argument '$1'" >&2; usage ;;
  esac
done
case "$prefix" in /*) ;; *) echo "install: --prefix must be absolute, not '$prefix'" >&2; exit 64 ;; esac
case "$configuration" in release|debug) ;; *) echo "install: --configuration is release or debug" >&2; exit 64 ;; esac
[ -z "$destdir" ] || destdir=$(mkdir -p "$destdir" && cd "$destdir" && pwd)

cd "$root"
scripts/install-deps.sh
swift build -c "$configuration" --product sidecard >&2
swift build -c "$configuration" --product sidecarctl >&2
bin=$(swift build -c "$configuration" --show-bin-path)
swift package plugin generate-manual --configuration "$configuration" --multi-page >&2
manuals=.build/plugins/GenerateManual/outputs

into() { install -d "$destdir$1"; echo "$destdir$1"; }
bindir=$(into "$prefix/bin")
install -m 0755 "$bin/sidecard" "$bin/sidecarctl" "$bindir/"
bash_dir=$(into "$prefix/share/bash-completion/completions")
zsh_dir=$(into "$prefix/share/zsh/site-functions")
fish_dir=$(into "$prefix/share/fish/vendor_completions.d")
for tool in sidecard sidecarctl; do
  "$bin/$tool" --generate-completion-script bash > "$bash_dir/$tool"
  "$bin/$tool" --generate-completion-script zsh > "$zsh_dir/_$tool"
  "$bin/$tool" --generate-completion-script fish > "$fish_dir/$tool.fish"
done
man_dir=$(into "$prefix/share/man/man1")
install -m 0644 "$manuals"/sidecard/*.1 "$manuals"/sidecarctl/*.1 "$man_dir/"
doc_dir=$(into "$prefix/share/doc/sidecar")
install -m 0644 README.md "$doc_dir/"
install -d "$doc_dir/docs"
install -m 0644 docs/*.md "$doc_dir/docs/"
install -m 0644 examples/sidecar.toml "$doc_dir/sidecar.toml.example"

config_dir=$(into /etc/sidecar)
if [ -e "$config_dir/sidecar.toml" ]; then
  echo "install: kept the existing $config_dir/sidecar.toml (the example is in $doc_dir)" >&2
else
  install -m 0644 examples/sidecar.toml "$config_dir/sidecar.toml"
fi
unit_dir=$(into /etc/systemd/system)
sed -e "s|/usr/local/bin/|$prefix/bin/|g" -e "s|file:///usr/share/doc/sidecar/|file://$prefix/share/doc/sidecar/|" \
  docs/sidecard.service > "$unit_dir/sidecard.service"
install -m 0644 docs/sidecard.socket "$unit_dir/sidecard.socket"
install -d "$unit_dir/sidecard.service.d"
install -m 0644 docs/sidecard.service.d/hardening.conf "$unit_dir/sidecard.service.d/hardening.conf"
chmod 0644 "$unit_dir/sidecard.service"
echo "install: sidecard and sidecarctl in $bindir; units in $unit_dir (systemctl daemon-reload && systemctl enable --now sidecard)" >&2
