# checkpoint-gateway: an edge daemon (RTSP -> ffmpeg -> QR decode -> verify -> lane displays).
# Build:  docker build -t checkpoint-gateway .
# Run:    docker run -d --name cgw \
#           -v /srv/cgw/config:/etc/checkpoint-gateway:ro -v /srv/cgw/state:/var/lib/checkpoint-gateway \
#           -e ADMIN_TOKEN=... -p 8080:8080 checkpoint-gateway
# The config must bind server.listen.host 0.0.0.0 to be reachable from outside the container, and
# should set gateway.stateDir: /var/lib/checkpoint-gateway. Keep the admin API on 127.0.0.1 (default)
# or publish its port only on a management network.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# Everything the TypeScript build reads (bench/ imports test helpers); .dockerignore keeps it small.
COPY . .
# `npm ci` runs the `prepare` script (tsc) with dev dependencies; then they are dropped.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
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
COPY --from=build /src/bin ./bin
COPY --from=build /src/config ./config
# Page assets are read from the source tree at start-up (tsc copies only .ts).
COPY --from=build /src/src/output/http/static ./src/output/http/static
USER gateway
VOLUME ["/etc/checkpoint-gateway", "/var/lib/checkpoint-gateway"]
EXPOSE 8080
# Process liveness only; readiness (cameras online, trust fresh) is /readyz for orchestrators.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/checkpoint-gateway.js"]
CMD ["run", "--config", "/etc/checkpoint-gateway/config.yaml"]
