# syntax=docker/dockerfile:1
#
# The sqsd daemon as a container. Your application goes in /srv: its sqs.config.ts, its receiver modules and
# their node_modules. sqsd itself lives in /app and is linked as /node_modules/sqsd, so `import "sqsd"`
# resolves from anywhere in the image without your app installing it.
#
#   FROM sqsd
#   COPY --chown=node:node . /srv
#   RUN npm ci --omit=dev
#
# The container runs `sqsd --config sqs.config.ts` in /srv; override CMD for other arguments. SIGTERM (what
# `docker stop` and Kubernetes send) drains: running handlers finish, nothing received is stranded, exit 0.
# Give it a stop timeout longer than the config's drainTimeoutMs plus the long-poll wait (default 30 s + 20 s).
#
# It runs as `node`, with production dependencies only (no fauxqs: `--embedded` is for development), and
# works with a read-only root filesystem given a writable /tmp (`docker run --read-only --tmpfs /tmp`, or an
# emptyDir on Kubernetes): Node's compile cache and the tsx loader keep compiled modules there. Without it sqsd
# starts without the cache where Node's own type stripping loads the app's files, and exits 2 naming the
# directory where tsx is needed. .ci/dockerfile-smoke runs these steps as a shell script: keep the two in step.

# Node 24: the LTS line CI runs the suite on (.ci/run fetches the same release), in maintenance until April
# 2028. Node 26 became the active LTS in October 2026; sqsd is not tested on it yet, so the image stays on 24.
ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
COPY scripts ./scripts
# The build as `npm run build` does it: compile, then copy the dashboard's charting library into dist/vendor.
RUN npx tsc -p tsconfig.build.json && node scripts/vendor-assets.js

FROM node:${NODE_VERSION}-bookworm-slim
# tini as PID 1: it reaps zombies left by anything a handler spawns, and passes signals on to sqsd. The kernel
# drops signals a PID 1 has no handler for, so without it a SIGTERM that came while sqsd was still starting
# (before its drain handler was installed) would be lost, and the stop would wait for SIGKILL.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: fauxqs (and its fastify, S3 and SNS clients) and TypeScript are
# devDependencies. Never --omit=optional: esbuild, under tsx, ships its platform binary as an optional
# dependency, and without it no TypeScript config or receiver loads.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workers ./dist/workers
COPY --from=build /app/dist/vendor ./dist/vendor
COPY web ./web
COPY bin ./bin
COPY config ./config
# Node's compile cache, warmed with what a daemon loads (the script only imports modules): bin/sqsd.js copies it
# into the temporary directory at a start that finds none there, since Node uses only a cache it can write to.
# A start then reads V8's compiled code rather than parsing sqsd, the AWS SDK, zod and yargs again: about a
# quarter less CPU to start (see docs/deploying.md). Made with this image's Node and files, as it must be.
RUN --mount=type=bind,source=scripts/warm-compile-cache.js,target=/tmp/warm-compile-cache.js \
  node /tmp/warm-compile-cache.js /app /app/compile-cache
# /app stays owned by root: the daemon's user cannot change it, read-only root filesystem or not.
RUN mkdir -p /node_modules /srv \
  && ln -s /app /node_modules/sqsd \
  && chown node:node /srv
USER node
WORKDIR /srv
# The port the README's examples give `http`; the endpoint is off unless the config sets it, and must listen
# on 0.0.0.0 (http.host) to be reached from outside the container.
EXPOSE 9090
# Asks /healthz at the config's http host and port; healthy, with a note, when the config has no http. It reads
# the default config in /srv: if CMD passes another --config, pass it here too.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "/app/bin/sqsd.js", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/sqsd.js"]
CMD ["--config", "sqs.config.ts"]
