# tandem workers (capture, translate, reconcile). Runs the TypeScript sources with tsx, as `npx tandem` does.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts
COPY bin ./bin
COPY src ./src
COPY connectors ./connectors
COPY schemas ./schemas
COPY tsconfig.json ./
USER node
ENTRYPOINT ["node", "bin/tandem.js"]
CMD ["--help"]
