#!/usr/bin/env bash
# `make run`: the local stack (or, with SECRETSYNC_USE_EXISTING_CLUSTER=1, the cluster of
# $KUBECONFIG), the CRDs, sample data in OpenBao and moto, the samples of examples/, the
# operator (with its injection webhook) in the foreground with text logs, a watcher that
# prints how long each sample SecretSync took to be Ready, and an injected pod: its stored
# spec, then, on the stack's node, the pod running and what it received (modes, sizes, never
# a value); on a stack without a node its agent init container run from that spec into a
# temporary directory. Ctrl-C stops the operator and the watcher
# and removes the webhook registration; the stack and the samples stay (`make testenv-down`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
began=$EPOCHREALTIME

say() { printf '\n\033[1m[run] %s\033[0m\n' "$*"; }
note() { printf '\033[1m[run] %s\033[0m\n' "$*"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'; }

existing=${SECRETSYNC_USE_EXISTING_CLUSTER:-}
state=${SECRETSYNC_TESTENV_DIR:-.testenv}
if [ "$existing" = 1 ]; then
  say "using the cluster of KUBECONFIG=${KUBECONFIG:-} (SECRETSYNC_USE_EXISTING_CLUSTER=1); no local stack"
  [ -n "${KUBECONFIG:-}" ] && [ "$(kubectl get --raw /readyz 2>/dev/null)" = ok ] \
    || { echo "KUBECONFIG is unset or its cluster does not answer kubectl get --raw /readyz" >&2; exit 1; }
  # Outside the cluster the operator's webhook listens on this machine, which a real
  # cluster's API server cannot call back: no webhook, no injected pod.
  webhook=0
  vault=1; [ -n "${VAULT_ADDR:-}" ] && [ -n "${VAULT_TOKEN:-}" ] || vault=0
  aws=1; [ -n "${AWS_ENDPOINT_URL:-}" ] && [ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ] || aws=0
  export AWS_REGION=${AWS_REGION:-us-east-1}
  [ $vault = 1 ] || note "VAULT_ADDR/VAULT_TOKEN unset: skipping the Vault samples (sources, plain, envelope, rotated, Deployment)"
  [ $aws = 1 ] || note "AWS_ENDPOINT_URL/AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset: skipping the AWS samples"
  note "the operator runs on this machine, out of the cluster's reach: no webhook, so no injected pod"
else
  say "the local stack (etcd, kube-apiserver, kube-controller-manager, OpenBao, moto; reused when running)"
  npx tsx test/testenv/cli.ts up
  # shellcheck source=/dev/null
  . "$state/env.sh"
  webhook=1 vault=1 aws=1
fi

vault_api() { # METHOD PATH [JSON]: the Vault HTTP API with $VAULT_TOKEN (no CLI needed)
  curl -sSf -o /dev/null -X "$1" -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/$2" ${3:+-d "$3"}
}
vault_ok() { curl -sf -o /dev/null -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/$1"; }
random() { head -c 12 /dev/urandom | base64; }
# The examples with this machine's addresses: only these names are replaced, so the YAML
# stays what it reads like.
render() {
  sed -e "s|\${VAULT_ADDR}|${VAULT_ADDR:-}|g" -e "s|\${AWS_ENDPOINT_URL}|${AWS_ENDPOINT_URL:-}|g" \
    -e "s|\${AWS_REGION}|${AWS_REGION:-}|g" "$@"
}

say "installing the CRDs from the Helm chart (kubectl apply --server-side -f charts/secretsync/crds/, the same files as crds/)"
kubectl apply --server-side --force-conflicts -f charts/secretsync/crds/ >/dev/null
kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null
# kubectl caches discovery for 10 minutes; refresh it so names and categories are current.
kubectl api-resources >/dev/null

if kubectl get namespace demo >/dev/null 2>&1; then
  say "removing namespace demo of a previous run, so the timings below start from nothing"
  # No operator runs yet to release its finalizers: drop them, the namespace takes the rest.
  for s in $(kubectl -n demo get secretsyncs -o name 2>/dev/null); do
    kubectl -n demo patch "$s" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
  done
  kubectl delete namespace demo --timeout=120s >/dev/null
fi

kubectl create namespace secretsync-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
files=(examples/00-namespace.yaml)
if [ $vault = 1 ]; then
  say "sample data in OpenBao: secret/demo/db, secret/demo/api, secret/demo/token; Transit key transit/keys/secretsync"
  vault_api POST secret/data/demo/db "{\"data\":{\"username\":\"app\",\"password\":\"$(random)\"}}"
  vault_api POST secret/data/demo/api '{"data":{"key-a":"alpha","key-b":"beta"}}'
  vault_api POST secret/data/demo/token "{\"data\":{\"client\":\"web\",\"token\":\"$(random)\"}}"
  vault_ok sys/mounts/transit/tune || vault_api POST sys/mounts/transit '{"type":"transit"}'
  vault_ok transit/keys/secretsync || vault_api POST transit/keys/secretsync
  files+=(examples/10-vault-source.yaml examples/2[0-4]-*.yaml examples/26-*.yaml)
fi
if [ $vault = 1 ] && [ $webhook = 1 ]; then
  say "Vault Kubernetes auth for the injected pod (role app: service account demo/app, audience vault, transit/decrypt/secretsync only)"
  kubectl -n secretsync-system create serviceaccount vault-reviewer --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl create clusterrolebinding secretsync-demo-vault-reviewer --clusterrole=system:auth-delegator \
    --serviceaccount=secretsync-system:vault-reviewer --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  vault_ok sys/auth/kubernetes/tune || vault_api POST sys/auth/kubernetes '{"type":"kubernetes"}'
  ca=$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d)
  host=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  jwt=$(kubectl -n secretsync-system create token vault-reviewer --duration=24h)
  node -e 'const [host, ca, jwt] = process.argv.slice(1);
    console.log(JSON.stringify({ kubernetes_host: host, kubernetes_ca_cert: ca, token_reviewer_jwt: jwt, disable_local_ca_jwt: true }))' \
    "$host" "$ca" "$jwt" | vault_api POST auth/kubernetes/config @-
  vault_api PUT sys/policies/acl/secretsync-demo-app '{"policy":"path \"transit/decrypt/secretsync\" { capabilities = [\"update\"] }"}'
  vault_api POST auth/kubernetes/role/app '{"bound_service_account_names":["app"],"bound_service_account_namespaces":["demo"],"audience":"vault","token_policies":["secretsync-demo-app"],"token_ttl":"10m"}'
fi
if [ $aws = 1 ]; then
  say "sample data in ${AWS_ENDPOINT_URL:-AWS}: Secrets Manager secret demo/aws-db ({username, password})"
  NODE_OPTIONS=--no-warnings npx tsx hack/seed-aws.ts demo/aws-db
  files+=(examples/11-aws-source.yaml examples/25-sync-aws.yaml)
fi

say "applying examples/ (with this machine's addresses): ${files[*]#examples/}"
render examples/00-namespace.yaml | kubectl apply -f - >/dev/null
[ $vault = 1 ] && kubectl -n demo create secret generic vault-token --from-literal=token="$VAULT_TOKEN" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
[ $aws = 1 ] && kubectl -n demo create secret generic aws-keys --from-literal=access-key-id="$AWS_ACCESS_KEY_ID" \
  --from-literal=secret-access-key="$AWS_SECRET_ACCESS_KEY" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
[ ${#files[@]} -gt 1 ] || { echo "nothing to apply: neither Vault nor AWS is configured" >&2; exit 1; }
for f in "${files[@]:1}"; do render "$f"; echo '---'; done | kubectl apply -f -
mapfile -t syncs < <(for f in "${files[@]}"; do render "$f"; echo '---'; done \
  | kubectl create --dry-run=client -f - -o name | sed -n 's|^secretsync\.secretsync\.io/||p')

if [ $webhook = 1 ]; then
  say "building and starting the operator (text logs; webhook https://127.0.0.1:9443/mutate with a self-managed CA)"
else
  say "building and starting the operator (text logs; no webhook)"
fi
npm run --silent build
started=$EPOCHREALTIME
# With a node, the injected agent runs the image the stack imported (the chart's default
# name, the operator's default --agent-image); without one the pod never starts.
node_up=0
[ -n "${SECRETSYNC_TESTENV_NODE_NAME:-}" ] && node_up=1
webhook_flags=()
[ $node_up = 1 ] || webhook_flags=(--agent-image secretsync:dev)
[ $webhook = 1 ] || webhook_flags=(--webhook-addr 0)
# The local stack's API server presents a client certificate to webhooks: require it, so
# nothing else on this machine can ask the webhook about the demo's SecretSyncs.
[ $webhook = 1 ] && [ -n "${SECRETSYNC_WEBHOOK_CLIENT_CA:-}" ] && webhook_flags+=(--webhook-client-ca "$SECRETSYNC_WEBHOOK_CLIENT_CA")
# --namespace demo: the samples only; other namespaces of the cluster (tests, other operators)
# are neither reconciled nor sent to this webhook.
node dist/src/cli.js operator --namespace demo --operator-namespace secretsync-system --metrics-addr 127.0.0.1:8080 \
  --health-addr 127.0.0.1:8081 --insecure-allow-http --kek-check-interval 30s --shutdown-timeout 5s \
  --log-format text "${webhook_flags[@]}" &
operator=$!
watcher=
out=$(mktemp -d)
cleanup() {
  # A second Ctrl-C must not cut the clean-up short (the webhook registration would stay).
  trap '' INT TERM
  trap - EXIT
  set +e
  [ -n "$watcher" ] && kill "$watcher" 2>/dev/null
  kill "$operator" 2>/dev/null && wait "$operator" 2>/dev/null
  # Left behind with failurePolicy Fail and nobody listening, the registration would refuse
  # every labelled pod on this stack (the tests' included).
  [ $webhook = 1 ] && kubectl delete mutatingwebhookconfiguration secretsync --ignore-not-found >/dev/null 2>&1
  rm -rf "$out"
  if [ "$existing" = 1 ]; then
    say "stopped the operator and the watcher. The samples stay in namespace demo (kubectl delete namespace demo removes them)."
  else
    say "stopped the operator and the watcher, removed the webhook registration. Still running: the local stack and the samples in namespace demo (make testenv-down stops the stack)."
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The watcher: one line per sample SecretSync when it first turns Ready.
(
  declare -A ready=() want=()
  for s in "${syncs[@]}"; do want[$s]=1; done
  exec {w}< <(exec kubectl -n demo get secretsyncs --watch \
    -o jsonpath='{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}' 2>/dev/null)
  kw=$!
  trap 'kill $kw 2>/dev/null' EXIT
  trap 'exit 0' TERM
  warned=0
  while [ ${#ready[@]} -lt ${#syncs[@]} ]; do
    if IFS=' ' read -r -t 2 name status <&"$w"; then
      if [ "$status" = True ] && [ -n "${want[$name]:-}" ] && [ -z "${ready[$name]:-}" ]; then
        ready[$name]=1
        note "$name Ready after $(since "$started") (operator start; $(since "$began") since make run began)"
      fi
    elif [ $? -le 128 ]; then
      note "the watch of the sample SecretSyncs ended early (kubectl get --watch exited)"; break
    elif [ $warned = 0 ] && awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a > 120) }'; then
      warned=1
      for s in "${syncs[@]}"; do
        [ -n "${ready[$s]:-}" ] || note "$s not Ready after 120s: $(kubectl -n demo get secretsync "$s" \
          -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}: {.status.conditions[?(@.type=="Ready")].message}')"
      done
    fi
  done
  [ ${#ready[@]} -lt ${#syncs[@]} ] || note "every sample SecretSync (${#syncs[@]}) Ready $(since "$started") after the operator started"
) &
watcher=$!

if [ $webhook = 1 ]; then
  for _ in $(seq 1 60); do
    kubectl get mutatingwebhookconfiguration secretsync >/dev/null 2>&1 \
      && [ "$(kubectl -n demo get secretsync db-creds -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] \
      && [ "$(kubectl -n demo get secretsync db-creds-sealed -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ] \
      && break
    sleep 1
  done

  say "examples/30-pod-injected.yaml: a pod asking for db-creds and db-creds-sealed; as stored by the API server:"
  kubectl -n demo delete pod injected --ignore-not-found --wait=false >/dev/null
  pod_yaml=$(cat examples/30-pod-injected.yaml)
  # On the node: the busybox of the stack (no registry is reachable from here).
  [ $node_up = 1 ] && pod_yaml=${pod_yaml//image: busybox/image: $SECRETSYNC_TEST_APP_IMAGE}
  pod_created=$EPOCHREALTIME
  for _ in $(seq 1 20); do
    kubectl apply -f - <<<"$pod_yaml" >/dev/null 2>&1 && break
    sleep 1
  done
  kubectl -n demo get pod injected -o jsonpath='{range .spec.initContainers[*]}init container {.name}: {.command} {.args}{"\n"}{end}{range .spec.volumes[*]}volume {.name}: {.emptyDir}{.projected.sources[*].serviceAccountToken}{"\n"}{end}{range .spec.containers[*].volumeMounts[*]}app mount {.mountPath} readOnly={.readOnly}{"\n"}{end}{range .spec.containers[*].env[*]}app env {.name}={.value}{"\n"}{end}'

  if [ $node_up = 1 ]; then
    if kubectl -n demo wait --for=condition=Ready pod/injected --timeout=90s >/dev/null 2>&1; then
      note "pod injected Running and Ready $(since "$pod_created") after its creation; what its app container printed (modes, owners, sizes; never a value):"
      kubectl -n demo logs injected -c app | sed 's/^/    /'
      note "db-creds-sealed was decrypted inside the pod by its agent, with its own Vault login (audience vault) and Transit"
    else
      note "pod injected is not Ready after 90s: kubectl -n demo describe pod injected; kubectl -n demo logs injected -c secretsync-agent-init"
    fi
  else
  say "no node in this stack: its init container, run from the stored spec as service account demo/app (its token of audience vault for Transit), into a temporary directory:"
  kcfg="$out/.kubeconfig"
  kubectl config view --raw --minify >"$kcfg"
  KUBECONFIG="$kcfg" kubectl config set-credentials app --token="$(kubectl -n demo create token app)" >/dev/null
  KUBECONFIG="$kcfg" kubectl config set-context --current --user=app >/dev/null
  kubectl -n demo create token app --audience vault >"$out/.vault-token"
  mapfile -t args < <(kubectl -n demo get pod injected -o go-template='{{range (index .spec.initContainers 0).args}}{{.}}{{"\n"}}{{end}}')
  KUBECONFIG="$kcfg" node dist/src/cli.js "${args[@]/#\/run\/secrets/$out}" --namespace demo --insecure-allow-http \
    --vault-token-file "$out/.vault-token" 2>&1 | tail -2 || true
  for d in "$out"/*/; do ls -lL "$d" | grep -v '^total' | sed "s|^|$(basename "$d")/ |"; done   # -L: the files behind the per-key links
  note "db-creds-sealed/password matches db-creds/password: $(cmp -s "$out/db-creds/password" "$out/db-creds-sealed/password" && echo yes || echo no)"
  fi
fi

say "the operator keeps running (Ctrl-C stops it). In another shell, try:"
{
  [ "$existing" = 1 ] || echo "    . $state/env.sh"
  echo "    kubectl -n demo get secretsyncs                          # READY, SOURCE, VERSION, LAST SYNC, NEXT ROTATION"
  [ $vault = 0 ] || cat <<'TXT'
    kubectl -n demo get secret db-creds -o jsonpath='{.data.username}' | base64 -d; echo
    bao kv put -mount=secret demo/db username=app2 password=changed   # within 30s: VERSION 2
    kubectl -n demo get secret db-creds-sealed -o yaml        # envelope mode: only ciphertext (docs/envelope-format.md)
    kubectl -n demo get secretsync db-creds-sealed -o jsonpath='{.status.keyId}'; echo
    bao write -f transit/keys/secretsync/rotate               # KEK rotation: re-wrapped within --kek-check-interval (30s here), same VERSION
    kubectl -n demo annotate secretsync api-keys secretsync.io/force-sync="$(date +%s)" --overwrite
    kubectl -n demo get secretsync app-token -w               # rotated every minute: VERSION +1, NEXT ROTATION moves on
    kubectl -n demo get rs -l app=web                         # one new ReplicaSet per version (secretsync.io/version-app-token)
    kubectl -n demo describe secretsync app-token             # Rotated, RolloutComplete, status.rollout
    kubectl -n demo annotate secretsync app-token secretsync.io/rotate-now="$(date +%s)" --overwrite
    kubectl -n demo delete secretsync app-token --wait=false  # held: InUse names Deployment/web (force: secretsync.io/force-delete=true)
TXT
  [ $aws = 0 ] || cat <<'TXT'
    kubectl -n demo get secret aws-db-creds -o jsonpath='{.data.username}' | base64 -d; echo   # from Secrets Manager
TXT
  [ $webhook = 0 ] || cat <<'TXT'
    kubectl -n demo get pod injected -o yaml                  # the injected volumes, init container and _FILE env vars (the demo verifies the API server)
TXT
  [ $webhook = 0 ] || [ $node_up = 0 ] || cat <<'TXT'
    kubectl -n demo exec injected -c app -- ls -lL /run/secrets/db-creds   # look for yourself (mode, owner, size)
    kubectl -n demo exec injected -c app -- sh -c 'stat -f -c %T /run/secrets/db-creds'   # tmpfs: in memory only
    kubectl -n demo logs injected -c secretsync-agent-init    # what the agent delivered (names and versions, never values)
TXT
  cat <<'TXT'
    kubectl explain secretsync.spec.refresh
    curl -s localhost:8080/metrics | grep ^secretsync_
TXT
}
wait "$operator"
