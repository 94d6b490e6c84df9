#!/usr/bin/env bash
# `make run`: the local stack, the CRDs, sample data in OpenBao, a SecretSource and two
# SecretSyncs, then the operator in the foreground. Ctrl-C stops the operator; the stack
# keeps running until `make testenv-down`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=/dev/null
. .testenv/env.sh

say() { printf '\n\033[1m[demo] %s\033[0m\n' "$*"; }

say "installing the CRDs (kubectl apply --server-side -f crds/)"
kubectl apply --server-side --force-conflicts -f crds/ >/dev/null
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
# kubectl caches discovery for 10 minutes; refresh it so names and categories are current.
kubectl api-resources >/dev/null

say "sample data in OpenBao: secret/demo/db and secret/demo/api"
bao kv put -mount=secret demo/db username=app password="$(head -c 12 /dev/urandom | base64)" >/dev/null
bao kv put -mount=secret demo/api key-a=alpha key-b=beta >/dev/null

say "a Transit key in OpenBao for envelope mode: transit/keys/secretsync"
bao secrets list -format=json | grep -q '"transit/"' || bao secrets enable transit >/dev/null
bao read transit/keys/secretsync >/dev/null 2>&1 || bao write -f transit/keys/secretsync >/dev/null

say "namespaces secretsync-system (operator) and demo (apps), a Vault token Secret, a SecretSource and three SecretSyncs (one envelope-encrypted)"
kubectl create namespace secretsync-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n demo create secret generic vault-token --from-literal=token="$VAULT_TOKEN" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - <<YAML
apiVersion: secretsync.io/v1alpha1
kind: SecretSource
metadata: { name: vault, namespace: demo }
spec:
  vault:
    address: ${VAULT_ADDR}
    kv: { mount: secret, version: 2 }
    auth:
      token: { secretRef: { name: vault-token, key: token } }
---
apiVersion: secretsync.io/v1alpha1
kind: SecretSync
metadata: { name: db-creds, namespace: demo }
spec:
  sourceRef: { name: vault }
  data:
    - { key: password, remoteRef: { path: demo/db, property: password } }
    - { key: username, remoteRef: { path: demo/db, property: username } }
  refresh: { interval: 30s }
---
apiVersion: secretsync.io/v1alpha1
kind: SecretSync
metadata: { name: api-keys, namespace: demo }
spec:
  sourceRef: { name: vault }
  dataFrom:
    - remoteRef: { path: demo/api }
  refresh: { schedule: "*/2 * * * *", timeZone: UTC }
---
apiVersion: secretsync.io/v1alpha1
kind: SecretSync
metadata: { name: db-creds-sealed, namespace: demo }
spec:
  sourceRef: { name: vault }
  data:
    - { key: password, remoteRef: { path: demo/db, property: password } }
  refresh: { interval: 30s }
  target:
    encryption:
      kek: { vaultTransit: { sourceRef: { name: vault }, key: secretsync, agentAuth: { kubernetes: { role: app } } } }
  mount: { mode: "0400" }
YAML

say "building and starting the operator (Ctrl-C to stop it). In another shell, try:"
cat <<'TXT'
    . .testenv/env.sh
    kubectl -n demo get secretsyncs                      # READY, SOURCE, VERSION, LAST SYNC
    kubectl -n demo get secret db-creds -o jsonpath='{.data.username}' | base64 -d; echo
    bao kv put -mount=secret demo/db username=app2 password=changed   # within 30s: VERSION 2
    kubectl -n demo get secret db-creds-sealed -o yaml    # envelope mode: only ciphertext (docs/envelope-format.md)
    kubectl -n demo get secretsync db-creds-sealed -o jsonpath='{.status.keyId}'; echo
    bao write -f transit/keys/secretsync/rotate           # KEK rotation: re-wrapped within --kek-check-interval (30s here), same VERSION
    kubectl -n demo annotate secretsync api-keys secretsync.io/force-sync="$(date +%s)" --overwrite
    kubectl explain secretsync.spec.refresh
    curl -s localhost:8080/metrics | grep ^secretsync_
TXT
npm run --silent build
exec node dist/src/cli.js operator --operator-namespace secretsync-system --metrics-addr 127.0.0.1:8080 --health-addr 127.0.0.1:8081 --insecure-allow-http --kek-check-interval 30s
