# syntax=docker/dockerfile:1
# image-task-bridge: the standalone server (docs/operations.md).
#   docker build -t image-task-bridge .                        # production: no sharp, so no sandbox
#   docker build --build-arg SANDBOX=true -t itb-sandbox .     # adds sharp: runs with no upstream configured
# The runtime stage holds exactly what `npm pack` puts in the package (dist/src, dist/adapters, bin, docs,
# README, package.json) plus the production dependencies from the lockfile; test/package/install.test.ts
# runs the CMD below from those same files.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the prepare build needs the sources, copied next.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json README.md ./
COPY src ./src
COPY adapters ./adapters
COPY bench ./bench
COPY bin ./bin
COPY docs ./docs
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /package \
 && tar -xzf /tmp/image-task-bridge-*.tgz -C /package --strip-components=1

FROM ${NODE_IMAGE} AS runtime
ARG SANDBOX=false
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    BLOB_DIR=/var/lib/image-task-bridge/blobs
WORKDIR /app
COPY --from=build /package/ ./
COPY package-lock.json ./
# --ignore-scripts: the package is already built (its prepare script would need TypeScript).
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && if [ "$SANDBOX" = "true" ]; then \
      npm install --no-save --omit=dev --no-audit --no-fund \
        "sharp@$(node -p "require('./package-lock.json').packages['node_modules/sharp'].version")"; \
    fi \
 && npm cache clean --force \
 && mkdir -p /var/lib/image-task-bridge/blobs \
 && chown -R node:node /var/lib/image-task-bridge
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself (graceful stop within SHUTDOWN_GRACE_MS).
CMD ["node", "dist/src/cli/main.js", "serve"]
