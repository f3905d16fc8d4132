# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production ones only, as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS prod-deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# HOST=0.0.0.0 so that a published port reaches the API: it then needs API_KEYS (or ALLOW_OPEN_NETWORK=true) to start.
ENV NODE_ENV=production LOG_FORMAT=json DATA_DIR=/data HOST=0.0.0.0
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The apps write V8's code cache (compiled code, made by their first run) where the non-root user can write.
ENV CODE_CACHE_DIR=/app/code-cache
RUN mkdir -p /data /app/code-cache && chown node:node /data /app/code-cache
USER node
EXPOSE 3000 3001
# One image, three roles, chosen by the command: the API (default), `node dist/apps/worker/bundle/main.js`, or
# `node dist/apps/cli/bundle/main.js migrate` (see docker-compose.yml).
CMD ["node", "dist/apps/api/bundle/main.js"]
