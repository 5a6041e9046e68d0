#!/usr/bin/env bash
# Reproduces the vendored browser assets served by the binary (src/http/assets.rs):
# production builds taken from their npm packages at pinned versions. Needs npm
# and the network; the cargo build itself only reads the committed files.
#
#   bash assets/fetch.sh           # fetch, copy, and check against SHA256SUMS
#   bash assets/fetch.sh --update  # fetch, copy, and rewrite SHA256SUMS
set -euo pipefail
cd "$(dirname "$0")"

# package@version  file-in-package  name-here
PINS=(
  "react@18.3.1 umd/react.production.min.js react.production.min.js"
  "react-dom@18.3.1 umd/react-dom.production.min.js react-dom.production.min.js"
  "graphiql@3.8.3 graphiql.min.js graphiql.min.js"
  "graphiql@3.8.3 graphiql.min.css graphiql.min.css"
  "@scalar/api-reference@1.28.23 dist/browser/standalone.js scalar-api-reference.standalone.js"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p vendor
for pin in "${PINS[@]}"; do
  read -r pkg file name <<<"$pin"
  dir="$work/$(printf '%s' "$pkg" | tr '/@' '__')"
  if [[ ! -d "$dir" ]]; then
    mkdir -p "$dir"
    tarball="$(cd "$dir" && npm pack --silent "$pkg")"
    tar xzf "$dir/$tarball" -C "$dir"
  fi
  # Source maps are not shipped; drop the comment that would request one.
  # Scalar's CSS loads its fonts from fonts.scalar.com even with
  # `withDefaultFonts: false`; the page's CSP would block them, so the
  # @font-face sources become local ones (the system's fonts otherwise).
  sed -e '/^\/[/*][#@] sourceMappingURL=/d' \
    -e 's#url(https://fonts\.scalar\.com/[a-z-]*\.woff2) format("woff2")#local(Inter)#g' \
    "$dir/package/$file" >"vendor/$name"
done
{ for pin in "${PINS[@]}"; do read -r pkg _ name <<<"$pin"; echo "# vendor/$name from $pkg"; done; } >VERSIONS

if [[ "${1:-}" == --update ]]; then
  sha256sum vendor/* >SHA256SUMS
else
  sha256sum -c SHA256SUMS
fi
