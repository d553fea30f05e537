# syntax=docker/dockerfile:1.7
#
# opentact-bridge container image.
#
#   docker build -t opentact-bridge:0.1.0 --build-arg VERSION=0.1.0 \
#     --build-arg REVISION="$(git rev-parse HEAD)" --build-arg CREATED="$(date -u +%FT%TZ)" .
#
# Base image: node:20 on Debian bookworm-slim rather than Alpine. The lockfile's native optional
# packages (msgpackr-extract, used by BullMQ) ship glibc prebuilds, and bookworm is what the
# developers' machines and CI run, so tests and production share one libc and one OpenSSL.
# Slim is ~70 MB larger than Alpine; correctness and parity win here. The tag is pinned by
# major.minor; release builds should also pin the digest: --build-arg NODE_IMAGE=node:20.20-bookworm-slim@sha256:...
# Node 20 is the major CI tests; the code also runs on Node 22 and 24 (see the README), so moving
# the image on is a change of this tag once CI tests that major.
ARG NODE_IMAGE=node:20.20-bookworm-slim
# The runtime's base: the Debian release NODE_IMAGE is built on, without Node's npm, npx, corepack
# and yarn. Only the node binary is copied over (it needs glibc and libstdc++, both in slim).
ARG RUNTIME_BASE_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
# base: shared settings for every stage.
FROM ${NODE_IMAGE} AS base
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /app
# No update check, no funding or audit chatter, no install-time telemetry from dependencies.
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    SCARF_ANALYTICS=false

# ---------------------------------------------------------------------------------------------
# deps: every dependency, dev included, for the TypeScript build. Only the manifests are copied,
# so this layer is rebuilt only when they change. --ignore-scripts: no dependency runs code at
# install time (the only install scripts are a telemetry ping and optional native builds whose
# prebuilt binaries npm installs anyway).
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts

# ---------------------------------------------------------------------------------------------
# build: compile src/ to dist/ (dist/main.js, and the simulator and demo receiver that only the
# demo image ships), and bundle the operator console into dist/console/public with esbuild.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

# ---------------------------------------------------------------------------------------------
# app: what production runs, dist/ without the simulator and the demo receiver (main.js never
# imports them; test/deploy checks the import graph).
FROM build AS app
RUN rm -rf dist/simulator dist/demo

# ---------------------------------------------------------------------------------------------
# prod-deps: production dependencies only, installed fresh from the lockfile rather than pruned
# from the build stage, so nothing the build left behind can leak into the runtime image.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts

# ---------------------------------------------------------------------------------------------
# tini, the static build from its release, pinned by version and SHA-256 per architecture. A Debian
# package revision disappears from the archive at the next point release; a release asset and its
# digest do not. BuildKit fetches and verifies it (ADD --checksum).
FROM scratch AS tini-amd64
ADD --checksum=sha256:c5b0666b4cb676901f90dfcb37106783c5fe2077b04590973b885950611b30ee --chmod=755 \
    https://github.com/krallin/tini/releases/download/v0.19.0/tini-static-amd64 /tini
FROM scratch AS tini-arm64
ADD --checksum=sha256:eae1d3aa50c48fb23b8cbdf4e369d0910dfc538566bfd09df89a774aa84a48b9 --chmod=755 \
    https://github.com/krallin/tini/releases/download/v0.19.0/tini-static-arm64 /tini
# TARGETARCH is set by BuildKit: amd64 or arm64 (any other platform fails here, by name).
FROM tini-${TARGETARCH} AS tini

# ---------------------------------------------------------------------------------------------
# node: the Node.js binary of NODE_IMAGE, and nothing else of it.
FROM ${NODE_IMAGE} AS node

# ---------------------------------------------------------------------------------------------
# production: node, tini, the compiled app and its production dependencies; no npm, no package
# manager, no simulator, no demo receiver, no dev dependency, no compiler.
FROM ${RUNTIME_BASE_IMAGE} AS production

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE_URL=https://example.com/opentact-bridge

LABEL org.opencontainers.image.title="opentact-bridge" \
      org.opencontainers.image.description="Bridges Opentact's live WSS event stream to customer webhooks: durable, deduplicated queueing and signed delivery with retries." \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.url="${SOURCE_URL}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

# tini is PID 1: it forwards SIGTERM to node (which then drains in-flight deliveries), reaps
# zombies, and makes a SIGTERM that arrives while Nest is still starting end the process (node as
# PID 1 ignores it until its own handlers exist); Kubernetes has no `docker run --init`.
COPY --from=tini /tini /usr/bin/tini
COPY --from=node /usr/local/bin/node /usr/local/bin/node

# The app runs as a fixed numeric non-root user (10001), matching the Helm chart's runAsUser, so
# `runAsNonRoot` can be verified by the kubelet without a passwd lookup.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app

WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000

# Owned by root and not writable by the app user: the process never writes to its own code, and
# the image runs unchanged with a read-only root filesystem (it writes nothing at run time; the
# chart still mounts an emptyDir at /tmp for Node's own temporary files).
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=app /app/dist ./dist

USER 10001:10001
EXPOSE 3000

# For `docker run` and compose only (Kubernetes ignores it and uses the chart's probes). Liveness
# never checks dependencies. Node is the client because the image has no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||3000,path:'/health/live',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]

# ---------------------------------------------------------------------------------------------
# demo: the production image plus the bundled Opentact simulator and the demo webhook receiver,
# for compose.yaml only (`docker build --target demo`). Never deploy it.
FROM production AS demo
COPY --from=build /app/dist/simulator ./dist/simulator
COPY --from=build /app/dist/demo ./dist/demo

# ---------------------------------------------------------------------------------------------
# runtime: the default target (the last stage), the production image as is.
FROM production AS runtime
