# The gateway's image, for docker-compose.yml. The playground's and the explorer's assets are
# installed from the npm registry at build time, so the running service loads nothing from the
# internet.
FROM node:20-slim AS assets
WORKDIR /app/playground
COPY playground/package.json playground/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
WORKDIR /app/explorer
COPY explorer/package.json explorer/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY graph_schema graph_schema
COPY seed seed
RUN pip install --no-cache-dir .
COPY --from=assets /app/playground/node_modules playground/node_modules
COPY explorer/explorer.html explorer/explorer.js explorer/explorer.css explorer/
COPY --from=assets /app/explorer/node_modules explorer/node_modules
# Production unless told otherwise: no playground, introspection or suggestions, a JWKS is
# required (GATEWAY_JWKS_URL) and no demo data is seeded.
ENV GATEWAY_HOST=0.0.0.0 GATEWAY_ENV=production
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz').status == 200 else 1)"
CMD ["sh", "-c", "gateway migrate && if [ \"$GATEWAY_ENV\" = development ]; then gateway seed --if-empty --persons ${DEMO_PERSONS:-2000}; fi && exec gateway serve"]
