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

# Node 24: the LTS line CI runs the suite on (.ci/run fetches the same release), in maintenance until April
# 2028. Node 26 became the active LTS in October 2026; sqsd is not tested on it yet, so the image stays on 24.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workers ./workers
RUN npx tsc -p tsconfig.build.json

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workers ./dist/workers
COPY bin ./bin
COPY config ./config
RUN mkdir -p /node_modules /srv \
  && ln -s /app /node_modules/sqsd \
  && chown node:node /srv
USER node
WORKDIR /srv
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/sqsd.js"]
CMD ["--config", "sqs.config.ts"]
