# syntax=docker/dockerfile:1
# Two stages: the build stage has the dev dependencies and the compilers better-sqlite3 needs; the
# runtime stage gets only the compiled service and its production dependencies, and runs as `node`.

FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Compiles better-sqlite3 against this Node (python3, make and g++ come with the full bookworm image).
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# Then drop the dev dependencies, keeping the compiled native module.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Same Debian release as the build stage, so the native module finds the libraries it was built against.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The embedded stores, master.key and the data keys live here: writable by the service's user only.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME /data
EXPOSE 3000
CMD ["node", "dist/main.js"]
