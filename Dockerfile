# syntax=docker/dockerfile:1
# One image for both apps; the command picks which one runs:
#   docker run podium node dist/apps/box-office/src/main.js
#   docker run podium node dist/apps/listeners/src/main.js
# See docs/operations.md, "Deployment". CI builds it with rootful podman (scripts/image/build.sh,
# which makes the two base images itself where Docker Hub cannot be reached) and runs both apps
# from it against a Redis (test/image/image.e2e-spec.ts). podman ignores the `# syntax=` line.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The packages are npm workspaces: npm ci links node_modules/@podium/* to libs/*.
COPY libs libs
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY scripts scripts
# --omit=optional too: typescript is a development dependency but also an optional peer of
# @nestjs/swagger (for its compiler plugin), which --omit=dev alone keeps (23 MB). The only
# other optional packages are msgpackr's native string extraction, for unpacking, which BullMQ
# never does (it only packs).
RUN npm run build \
 && npm prune --omit=dev --omit=optional --no-audit --no-fund

# The runtime: Debian slim with the build stage's node binary, and no npm, npx nor yarn
# (about 20 MB less than node:24-bookworm-slim, and no package manager in production).
# The user `node` is the official Node image's: uid and gid 1000.
FROM debian:bookworm-slim
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY --from=build /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules node_modules
# Each package's package.json (its exports) and its dist/, a link into dist/libs/<name>/src.
COPY --from=build --chown=node:node /app/libs libs
COPY --from=build --chown=node:node /app/dist dist
USER node
# 3000: box office (PORT); 3001: listeners' health and metrics (HEALTH_PORT).
EXPOSE 3000 3001
# Both apps exit 0 after a graceful stop on SIGTERM; node runs as PID 1, so no init is needed for that.
STOPSIGNAL SIGTERM
# V8 lets garbage pile up to several hundred MB under load unless the old space is bounded;
# 192 MB (with 16 MB semi-spaces: a bounded old space alone shrinks the young generation, and GC then costs more than the work) keeps a listeners process under 250 MB of RSS (docs/operations.md, "Memory").
ENV NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=16"
CMD ["node", "dist/apps/box-office/src/main.js"]
