# Twei's relayer and indexer as one image: `docker build -t twei .`, then compose.yaml (relayer,
# indexer and PostgreSQL). Two stages: the build (every dependency, contracts and TypeScript to
# dist/), then a pruned production tree (`npm ci --omit=dev`: no tsx, no Hardhat) on Node 24.
# test/ops/productionTree.test.ts plays the runtime stage's instructions and starts its command.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/ensure-edr.mjs ./scripts/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY scripts/service.mjs scripts/ensure-edr.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY deployments ./deployments
# The relayer's SQLite and evidence (when DATABASE_URL is unset) and the indexer's SQLite.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
# Inside the container the services listen on every interface; compose.yaml publishes them on the
# host's loopback only.
ENV RELAYER_HOST=0.0.0.0 INDEXER_HOST=0.0.0.0
EXPOSE 8787 8546
# npm start: the relayer and the indexer, each in its own process (src/ops/start.ts); compose.yaml
# runs them as two services with `npm run relayer` and `npm run indexer` instead.
CMD ["npm", "start"]
