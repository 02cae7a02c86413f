# syntax=docker/dockerfile:1
#
# pc-invitations image. One image, every CLI command:
#   docker run IMAGE                     -> worker (the default CMD)
#   docker run IMAGE emulator --host 0.0.0.0 --port 4566
#   docker run -i IMAGE enqueue < requests.ndjson
# Configuration is environment variables only (src/schemas/config.ts).

# ---- build: all dependencies (tsc is a devDependency), compile to dist/ ----
FROM node:26-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` runs tsc, and the sources are not copied yet. We build below.
RUN npm ci --ignore-scripts --no-audit --no-fund
# .dockerignore keeps node_modules, dist, tests, benchmarks and secrets out of this copy.
COPY . .
RUN npm run build

# ---- runtime: production dependencies + compiled JavaScript, non-root ----
FROM node:26-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, which --omit=dev does not install.
# --omit=optional: package.json's optionalDependencies carry a Node 26 binary for machines whose own
#   Node is older (`npm ci && npm start` on a Node 20 host); the image runs on its base image's Node
#   (whose image has the libatomic1 Node 26 links against) and carries no second one. (msgpackr's
#   optional native decoder goes too; it falls back to JS.)
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
# The files stay root-owned (read-only for the app); the process runs as the image's `node` user.
USER node
# worker, serve and emulator rewrite this heartbeat every 5 s while healthy; the HEALTHCHECK reads
# it (a worker has no HTTP port to probe by default, and a hung process stops writing).
ENV HEALTH_FILE=/tmp/pc-invitations.health
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "dist/src/cli/main.js", "healthcheck"]
# Exec form: node is PID 1 and receives SIGTERM itself; the worker handles it by finishing
# in-flight jobs within SHUTDOWN_GRACE_MS and exiting 0.
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["worker"]
