# syntax=docker/dockerfile:1
# vouch server image (docs/self-hosting.md, "Deploying").
#
#   docker build -t vouch-server .
#   docker run -p 8080:8080 -v vouch-data:/var/lib/vouch \
#     -e VOUCH_PUBLIC_URL=https://vouch.example.com vouch-server
#
# Stage 1 builds wheels of vouch-server, of vouch-client (sdk/python, which the server's CLI and
# MCP tools import) and of every dependency; stage 2 installs them, and nothing else, into a slim
# runtime that runs as an unprivileged user.

FROM python:3.11-slim AS builder
# A compiler for dependencies that ship no wheel for the build platform (arm64, say); it stays in
# this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY sdk/python ./sdk/python
RUN pip wheel --no-cache-dir --wheel-dir /wheels ./sdk/python .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VOUCH_DATA_DIR=/var/lib/vouch \
    VOUCH_LOG_FORMAT=json
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels vouch-server \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/vouch --no-create-home vouch \
    && install -d -o vouch -g vouch -m 0700 /var/lib/vouch
# The SQLite database and the generated master secret (secret.key) live here unless
# VOUCH_DATABASE_URL and VOUCH_SECRET_KEY say otherwise: keep it on a volume and back it up.
VOLUME ["/var/lib/vouch"]
USER vouch
WORKDIR /var/lib/vouch
EXPOSE 8080
# GET /health is 503 when the database (or a configured Redis) is down; urlopen raises on it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]
ENTRYPOINT ["vouch"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
