# syntax=docker/dockerfile:1
# One image for both apps; the command picks which one runs:
#   docker run podium node dist/apps/box-office/src/main.js
#   docker run podium node dist/apps/listeners/src/main.js
# See docs/operations.md. (Written for Docker; not built on the machines podium is developed on.)

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The packages are npm workspaces: npm ci links node_modules/@podium/* to libs/*.
COPY libs libs
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps apps
COPY scripts scripts
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
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
