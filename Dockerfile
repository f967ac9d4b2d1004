# supportbot on PostgreSQL, for compose.yaml (several replicas in webhook mode) or alone.
# Settings come from the environment at run time (see .env.example); none is baked in.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
# As the Makefile does: exactly the locked versions, each checked against its hash (the lock
# comes first, so changing the code alone reuses this layer)...
COPY requirements/postgres.txt requirements/postgres.txt
RUN pip install --require-hashes -r requirements/postgres.txt
# ...then the project itself from no index, which fails if pyproject.toml asks for
# something the lock lacks. Not editable: the image needs no source tree.
COPY pyproject.toml README.md LICENSE ./
COPY bot bot
COPY flows flows
COPY knowledge knowledge
RUN pip install --no-index --no-build-isolation '.[postgres]' && rm -rf /src/build

# Not root. Its home is the working directory: the default sqlite:///supportbot.db (a
# single container without PostgreSQL) lands there, and no .env is read from it.
RUN useradd --system --create-home --home-dir /home/supportbot --uid 10001 supportbot
USER supportbot
WORKDIR /home/supportbot

# The webhook server (WEBHOOK_LISTEN's default port); it also serves /healthz and /metrics.
EXPOSE 8443
# /healthz on the port the bot serves: WEBHOOK_LISTEN in webhook mode, else METRICS_LISTEN
# (long polling without it opens no port: then there is nothing to ask, and it passes).
# The server is up only once the Bot API answered, hence the start period.
HEALTHCHECK --interval=30s --timeout=6s --start-period=90s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request\nlisten = (os.environ.get('WEBHOOK_LISTEN') or '0.0.0.0:8443') if os.environ.get('WEBHOOK_URL') else os.environ.get('METRICS_LISTEN', '')\nif not listen.strip(): sys.exit(0)\nhost, _, port = listen.strip().rpartition(':')\nhost = host.strip('[]')\nhost = '127.0.0.1' if host in ('', '0.0.0.0', '::') else host\nhost = f'[{host}]' if ':' in host else host\ntry: urllib.request.urlopen(f'http://{host}:{port}/healthz', timeout=5)\nexcept Exception as exc: sys.exit(f'/healthz on port {port}: {exc}')"]

CMD ["supportbot", "run"]
