# syntax=docker/dockerfile:1
# The secretsync image: the operator (`secretsync operator`) and the in-pod agent
# (`secretsync agent init|watch`, injected by the webhook with this image) in one.
# Node 22 LTS. The runtime stage is distroless: no shell, no npm, user 65532 (the
# agent's default uid, AGENT_UID), nothing written to the root filesystem, so it runs
# with readOnlyRootFilesystem. hack/image/rootfs.ts assembles the same filesystem from this
# file without a Docker engine (the local stack's node imports it); test/integration/image/
# checks that the two agree and runs it in a container.

ARG BUILD_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

# Compile TypeScript with the dev dependencies. tsc needs no install script (the only ones,
# esbuild's and @parcel/watcher's, serve tsx), so none runs.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && find dist -name '*.d.ts' -delete

# Production dependencies only: nothing of tsx, typescript or jest reaches the image.
# No dependency of ours has an install script, so none runs.
FROM ${BUILD_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
USER 65532:65532
# Metrics, health probes, the admission webhook (see `secretsync operator --help`).
EXPOSE 8080 8081 9443
# V8 memory settings measured by `make bench-scale` (docs/benchmarks.md): a 4 MiB young
# generation keeps scavenge pauses (event-loop lag) short, and an old generation that grows
# by 20% over what is live keeps garbage from piling up (at 10,000 SecretSyncs: 229 MiB RSS
# steady, 232 at peak, instead of 346 and 424). Benchmarks read these flags from here.
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "--max-semi-space-size=4", "--heap-growing-percent=20", "/app/dist/src/cli.js"]
CMD ["operator"]
