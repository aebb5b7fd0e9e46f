# syntax=docker/dockerfile:1
# The fluxburst worker image. Build:  docker build -t fluxburst .
# Run:  docker run --rm -e TEMPORAL_ADDRESS=temporal:7233 fluxburst            (a worker)
#       docker run --rm -e TEMPORAL_ADDRESS=temporal:7233 fluxburst list       (any other CLI command)

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: install everything, compile, bundle the workflows, then drop dev dependencies ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install` from the lockfile, not `npm ci` (as scripts/setup.sh): npm 11's ci insists on other
# platforms' optional packages (@swc/core-darwin-*, ...) that this lockfile cannot list; install
# still installs exactly the locked versions.
RUN npm install --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY bin ./bin
# Not copied, so not shipped: test/, bench/ and the test kit (testkit/: local Slurm, moto, fake
# API servers), which tsconfig.json compiles only for the benches.
# tsc -p tsconfig.json && node dist/workers/bundle.js (writes dist/workflow-bundle.js, so workers
# start without webpack), then keep only runtime dependencies.
RUN npm run build \
 && test -f dist/workflow-bundle.js \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: compiled output + production node_modules, as the unprivileged `node` user ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    FLUXBURST_STATE_DIR=/home/node/.fluxburst
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
USER node
ENTRYPOINT ["node", "bin/fluxburst.js"]
CMD ["worker"]
