# checkpoint-gateway: an edge daemon (RTSP -> ffmpeg -> QR decode -> verify -> lane displays).
# Build:  docker build -t checkpoint-gateway .
# Run:    docker run -d --name cgw \
#           -v /srv/cgw/config:/etc/checkpoint-gateway:ro -v /srv/cgw/state:/var/lib/checkpoint-gateway \
#           -e CPGW_ADMIN_TOKEN=... -e CPGW_ACCESS_TOKEN=... -p 8080:8080 checkpoint-gateway
# The config must bind server.listen.host 0.0.0.0 to be reachable from outside the container, and
# should set gateway.stateDir: /var/lib/checkpoint-gateway. Keep the admin API on 127.0.0.1 (default)
# or publish its port only on a management network. Run with a restart policy (--restart
# unless-stopped, or restart: in compose): a container recreated after a crash has a new host name,
# and the old one's stateDir/gateway.lock is taken over only once it has gone 60 s unrefreshed
# (docs/events.md); until then the new container exits 2 (GW_STATE_DIR_LOCKED) and is restarted.

# The active Node LTS line (Node 20 reached end of life on 2026-04-30); CI tests the same version.
ARG NODE_VERSION=26.10.0
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
# Dependencies first, in their own layer: a source change does not re-download them.
# --ignore-scripts: the `prepare` build needs the source, which is not copied yet.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
# Everything the TypeScript build reads (bench/ imports test helpers); .dockerignore keeps it small.
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
COPY scripts ./scripts
COPY test ./test
COPY wasm ./wasm
# Only what the daemon runs ships: the compiled tests, benches, dev scripts and test seams
# (src/*/testing: fault-injecting workers, in-memory stores) are built for the type check, then removed.
RUN npm run build \
 && rm -rf dist/test dist/bench dist/scripts dist/src/*/testing \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
# ffmpeg reads the cameras; tini reaps ffmpeg children and forwards SIGTERM for a graceful stop.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid gateway --home-dir /var/lib/checkpoint-gateway --shell /usr/sbin/nologin gateway \
 && mkdir -p /etc/checkpoint-gateway /var/lib/checkpoint-gateway \
 && chown gateway:gateway /var/lib/checkpoint-gateway
ENV NODE_ENV=production \
    HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY config ./config
# The pinned zxing-wasm SHA-256 is checked at start-up against this folder.
COPY wasm ./wasm
# Page assets are read from the source tree at start-up (tsc copies only .ts).
COPY src/output/http/static ./src/output/http/static
USER gateway
VOLUME ["/etc/checkpoint-gateway", "/var/lib/checkpoint-gateway"]
EXPOSE 8080
# Process liveness only; readiness (cameras online, trust fresh) is /readyz for orchestrators.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/checkpoint-gateway.js"]
CMD ["run", "--config", "/etc/checkpoint-gateway/config.yaml"]
