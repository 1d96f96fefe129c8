# The accountgraph service: GraphQL API with an offline GraphiQL explorer.
#
#   docker build -t accountgraph .
#   docker compose up            (Neo4j, then this image: `seed` once, `serve` as replicas behind nginx;
#                                 see docker-compose.yml)
#
# Node is needed only to install the pinned GraphiQL assets (graphiql/package-lock.json);
# the final image carries the installed files, not node.

# --- GraphiQL assets -----------------------------------------------------------------------
FROM node:20-slim AS graphiql
WORKDIR /src/graphiql
COPY graphiql/package.json graphiql/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- The service ---------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000

RUN groupadd --system --gid 10001 accountgraph \
 && useradd --system --uid 10001 --gid accountgraph --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin accountgraph

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The source at /app, installed editable: service/config.py takes the parent of the `service`
# package as the project root, so /app/graphiql/node_modules and /app/seed/townsend resolve.
COPY . .
RUN pip install --no-deps -e .
COPY --from=graphiql /src/graphiql/node_modules ./graphiql/node_modules

# The folders the service writes, owned by its user (the rest of /app stays root's, read-only to it):
# exports/ for activations to file destinations and the erasure's scrub of them (EXPORTS_DIR,
# service/config.py), .cache/ for what `accountgraph run` keeps (the development key). Compose mounts
# the `exports` volume on /app/exports; a new named volume takes this folder's owner.
RUN mkdir -p /app/exports /app/.cache \
 && chown accountgraph:accountgraph /app/exports /app/.cache \
 && chmod 0750 /app/exports /app/.cache

USER accountgraph:accountgraph
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=4)"]

CMD ["accountgraph", "serve"]
