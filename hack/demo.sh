#!/usr/bin/env bash
# `make run`: the local stack, the CRDs, sample data in OpenBao, a SecretSource and three
# SecretSyncs, the operator (with its injection webhook), then a pod that asks for
# injection: its stored spec, and its agent init container run from that spec (there is
# no kubelet locally) writing the files into a temporary directory. The operator then
# stays in the foreground; Ctrl-C stops it; the stack keeps running until `make testenv-down`.
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
bao kv put -mount=secret demo/token client=web token="$(head -c 12 /dev/urandom | base64)" >/dev/null

say "a Transit key in OpenBao for envelope mode: transit/keys/secretsync"
bao secrets list -format=json | grep -q '"transit/"' || bao secrets enable transit >/dev/null
bao read transit/keys/secretsync >/dev/null 2>&1 || bao write -f transit/keys/secretsync >/dev/null

say "namespaces secretsync-system (operator) and demo (apps), a Vault token Secret, a SecretSource and four SecretSyncs (one envelope-encrypted, one rotated every minute), a Deployment it rolls"
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
  mount: { mode: "0440" }
  access: { serviceAccounts: [app] }
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
---
apiVersion: secretsync.io/v1alpha1
kind: SecretSync
metadata: { name: app-token, namespace: demo }
spec:
  sourceRef: { name: vault }
  data:
    - { key: token, remoteRef: { path: demo/token, property: token } }
    - { key: client, remoteRef: { path: demo/token, property: client } }
  rotation: { schedule: "* * * * *", keys: [token], generator: { length: 32, charset: alphanumeric } }
  rollout: { auto: true }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: demo }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: registry.example/web:1      # no kubelet here: its pods stay Pending, the ReplicaSets show the rollouts
          volumeMounts: [ { name: token, mountPath: /etc/token, readOnly: true } ]
      volumes: [ { name: token, secret: { secretName: app-token } } ]
YAML

kubectl -n demo create serviceaccount app --dry-run=client -o yaml | kubectl apply -f - >/dev/null

say "building and starting the operator with its webhook (https://127.0.0.1:9443/mutate, self-managed CA)"
npm run --silent build
node dist/src/cli.js operator --operator-namespace secretsync-system --metrics-addr 127.0.0.1:8080 \
  --health-addr 127.0.0.1:8081 --insecure-allow-http --kek-check-interval 30s --agent-image secretsync:dev &
operator=$!
# On exit the demo's webhook registration goes too: left behind with failurePolicy Fail and
# nobody listening, it would refuse every labelled pod on this stack (the tests' included).
trap 'kill $operator 2>/dev/null; wait $operator 2>/dev/null; kubectl delete mutatingwebhookconfiguration secretsync --ignore-not-found >/dev/null 2>&1' EXIT INT TERM
for _ in $(seq 1 60); do
  kubectl get mutatingwebhookconfiguration secretsync >/dev/null 2>&1 \
    && [ "$(kubectl -n demo get secretsync db-creds -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] && break
  sleep 1
done

say "a pod asking for db-creds (label + annotation secretsync.io/inject); as stored by the API server:"
kubectl -n demo delete pod injected --ignore-not-found --wait=false >/dev/null
for _ in $(seq 1 20); do
  kubectl apply -f - >/dev/null 2>&1 <<'YAML' && break
apiVersion: v1
kind: Pod
metadata:
  name: injected
  namespace: demo
  labels: { secretsync.io/inject: "true" }
  annotations: { secretsync.io/inject: db-creds }
spec:
  serviceAccountName: app
  containers: [ { name: app, image: busybox, command: [sh, -c, 'cat $PASSWORD_FILE; sleep 3600'] } ]
YAML
  sleep 1
done
kubectl -n demo get pod injected -o jsonpath='{range .spec.initContainers[*]}init container {.name}: {.command} {.args}{"\n"}{end}{range .spec.volumes[*]}volume {.name}: {.emptyDir}{.projected.sources[*].serviceAccountToken}{"\n"}{end}{range .spec.containers[*].volumeMounts[*]}app mount {.mountPath} readOnly={.readOnly}{"\n"}{end}{range .spec.containers[*].env[*]}app env {.name}={.value}{"\n"}{end}'

say "its init container, run from the stored spec as service account demo/app, into a temporary directory:"
out=$(mktemp -d)
kcfg="$out/.kubeconfig"
kubectl config view --raw --minify >"$kcfg"
KUBECONFIG="$kcfg" kubectl config set-credentials app --token="$(kubectl -n demo create token app)" >/dev/null
KUBECONFIG="$kcfg" kubectl config set-context --current --user=app >/dev/null
mapfile -t args < <(kubectl -n demo get pod injected -o go-template='{{range (index .spec.initContainers 0).args}}{{.}}{{"\n"}}{{end}}')
KUBECONFIG="$kcfg" node dist/src/cli.js "${args[@]/#\/run\/secrets/$out}" --namespace demo --insecure-allow-http | tail -1
ls -lL "$out"/db-creds/ | grep -v '^total'   # -L: the files behind the per-key links (mode 0440 from spec.mount)

say "the operator keeps running (Ctrl-C stops it). In another shell, try:"
cat <<'TXT'
    . .testenv/env.sh
    kubectl -n demo get secretsyncs                      # READY, SOURCE, VERSION, LAST SYNC
    kubectl -n demo get secret db-creds -o jsonpath='{.data.username}' | base64 -d; echo
    bao kv put -mount=secret demo/db username=app2 password=changed   # within 30s: VERSION 2
    kubectl -n demo get secret db-creds-sealed -o yaml    # envelope mode: only ciphertext (docs/envelope-format.md)
    kubectl -n demo get secretsync db-creds-sealed -o jsonpath='{.status.keyId}'; echo
    bao write -f transit/keys/secretsync/rotate           # KEK rotation: re-wrapped within --kek-check-interval (30s here), same VERSION
    kubectl -n demo annotate secretsync api-keys secretsync.io/force-sync="$(date +%s)" --overwrite
    kubectl -n demo get secretsync app-token -w               # rotated every minute: VERSION +1, NEXT ROTATION moves on
    kubectl -n demo get rs -l app=web                         # one new ReplicaSet per version (secretsync.io/version-app-token)
    kubectl -n demo describe secretsync app-token             # Rotated, RolloutComplete, status.rollout
    kubectl -n demo annotate secretsync app-token secretsync.io/rotate-now="$(date +%s)" --overwrite
    kubectl -n demo delete secretsync app-token --wait=false  # held: InUse names Deployment/web (force: secretsync.io/force-delete=true)
    kubectl explain secretsync.spec.refresh
    curl -s localhost:8080/metrics | grep ^secretsync_
TXT
wait $operator
