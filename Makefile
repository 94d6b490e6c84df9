# secretsync — `make help` lists the targets.
SHELL := bash
.DEFAULT_GOAL := help
NODE_MODULES := node_modules/.package-lock.json
JEST := node --experimental-vm-modules --disable-warning=ExperimentalWarning node_modules/jest/bin/jest.js

# Node.js 22+ for every recipe: the machine's, or the one pinned in hack/testenv/versions.env
# that hack/node.sh brings from the npm registry into the cache once (not for `make help`).
ifneq ($(filter-out help,$(or $(MAKECMDGOALS),help)),)
NODE_BIN := $(shell bash hack/node.sh)
ifneq ($(.SHELLSTATUS),0)
$(error hack/node.sh could not provide Node.js 22+; its message is above)
endif
ifneq ($(NODE_BIN),)
export PATH := $(NODE_BIN):$(PATH)
endif
$(info [node] $(shell PATH='$(PATH)' node --version) ($(shell PATH='$(PATH)' command -v node)), npm $(shell PATH='$(PATH)' npm --version))
endif

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: $(NODE_MODULES) ## Install npm dependencies (npm ci)

.PHONY: testenv-install
testenv-install: $(NODE_MODULES) ## Build/install etcd, the Kubernetes binaries (node included), OpenBao, moto into the cache; as root, apt-get the node's packages
	npx tsx test/testenv/cli.ts install

.PHONY: testenv-up
testenv-up: testenv-install ## Start the local stack (idempotent; with a node as root, SECRETSYNC_TESTENV_NODE=0 without) and write .testenv/env.sh
	npx tsx test/testenv/cli.ts up

.PHONY: testenv-down
testenv-down: $(NODE_MODULES) ## Stop every process of the local stack and remove what its node left (mounts, cgroups, iptables, bridge)
	npx tsx test/testenv/cli.ts down

.PHONY: testenv-status
testenv-status: $(NODE_MODULES) ## Show the local stack's processes
	npx tsx test/testenv/cli.ts status

.PHONY: build
build: $(NODE_MODULES) ## Compile TypeScript into dist/
	npm run build

.PHONY: typecheck
typecheck: $(NODE_MODULES) ## Type-check sources and tests (tsc --noEmit)
	npx tsc -p tsconfig.json --noEmit

.PHONY: lint
lint: $(NODE_MODULES) ## Lint with ESLint + typescript-eslint (includes layering rules)
	npx eslint .

.PHONY: test-unit
test-unit: $(NODE_MODULES) ## Unit tests (pure, no servers)
	$(JEST) --selectProjects unit

# Integration test files run side by side against the one stack (each file keeps to names
# of its own): most of their time is spent waiting on servers and schedules, not on CPU.
# Then the few that reach the whole cluster (jest.config.js, project integration-alone),
# one at a time; the first run hands the stack it started to the second, which stops it.
# INTEGRATION_WORKERS=1 runs every file one at a time.
INTEGRATION_WORKERS ?= 4

.PHONY: test-integration
test-integration: testenv-install ## Integration tests against the real local stack (started and stopped by Jest), files in parallel
	rc=0; SECRETSYNC_TESTENV_HANDOVER=1 $(JEST) --selectProjects integration --maxWorkers=$(INTEGRATION_WORKERS) || rc=$$?; \
	  $(JEST) --selectProjects integration-alone --runInBand || rc=$$?; exit $$rc

.PHONY: test-reliability
test-reliability: testenv-install ## Faults while SecretSyncs sync, and 2,000 SecretSyncs converging through a change wave while OpenBao restarts and the leader is killed, on a stack of its own (not in make test): invariants, recovery times, figures in bench/results/reliability.md
	$(JEST) --selectProjects reliability --runInBand

.PHONY: test
test: typecheck lint test-unit test-integration ## Everything CI runs: typecheck, lint, unit and integration tests

.PHONY: bench
bench: testenv-install ## Benchmarks (not in make test): envelope vs plain mode for 500 SecretSyncs; AWS calls for 200 SecretSyncs on one source
	npx tsx bench/envelope.ts
	npx tsx bench/aws-batch.ts

.PHONY: bench-writes
bench-writes: bench-scale ## Alias of bench-scale (its API requests per new SecretSync are the writes)

.PHONY: bench-scale
bench-scale: testenv-install ## Benchmark (not in make test): N SecretSyncs against the floor; ARGS="--syncs 10000 --source aws --envelope" (default --syncs 1000 --source vault)
	npm run --silent bench -- scale $(or $(ARGS),--syncs 1000 --source vault)

.PHONY: run
run: $(NODE_MODULES) ## The demo: local stack (or SECRETSYNC_USE_EXISTING_CLUSTER=1), CRDs, sample data, examples/, the operator in the foreground (Ctrl-C stops it)
	bash hack/demo.sh

.PHONY: clean
clean: ## Remove build output and the per-checkout stack state (not the binary cache)
	-npx tsx test/testenv/cli.ts down 2>/dev/null
	rm -rf dist .testenv coverage

.PHONY: lock
lock: ## Regenerate package-lock.json (npm 11.16+ drops other platforms' optional deps, which then breaks npm ci)
	npx --yes npm@11.13.0 install --package-lock-only --ignore-scripts --no-audit --no-fund

# --- Helm chart (charts/secretsync) ---
HELM = $(shell bash hack/testenv/install.sh helm 2>/dev/null | tail -1)/bin/helm

.PHONY: chart-lint
chart-lint: ## helm lint charts/secretsync (default values and each mode, --strict); builds helm into the cache on first use
	@for v in "" "--set watchNamespace=apps" "--set webhook.enabled=false" "--set serviceMonitor.enabled=true" "--set networkPolicy.enabled=true" "--set serviceAccount.create=false --set serviceAccount.name=ops --set rbac.create=false"; do \
	  echo "helm lint --strict $$v"; $(HELM) lint --strict charts/secretsync $$v || exit 1; done
