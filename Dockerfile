# WanBot: the chat bot and its job engine (the GPU work runs on ComfyUI hosts).
#   docker build -t wanbot .
#   docker run -v ./config:/srv/wanbot/config:ro -v wanbot-data:/srv/wanbot/data wanbot
# The config folder may be empty or absent (the defaults, tokens from the environment); the data
# (database, archive, job folders) is always in the volume, whatever the config says.
# compose.yaml runs it, and optionally a ComfyUI GPU service beside it.

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.11-slim AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/venv UV_PYTHON_DOWNLOADS=never
WORKDIR /src
# The dependencies first (from the lock), so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-install-project
COPY bot ./bot
COPY adapters ./adapters
COPY comfy ./comfy
COPY workflows ./workflows
RUN uv sync --locked --no-editable

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --user-group wanbot \
    && mkdir -p /srv/wanbot/data /srv/wanbot/config \
    && chown -R wanbot /srv/wanbot
COPY --from=build /venv /venv
# WANBOT_DATA wins over the config's [storage] data: everything goes to the volume.
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WANBOT_DATA=/srv/wanbot/data \
    WANBOT_OPS_LISTEN=0.0.0.0:9100
# `wanbot` reads ./config.toml when there is one, so the config folder (mounted read-only) is
# the working directory; nothing is written here.
WORKDIR /srv/wanbot/config
VOLUME ["/srv/wanbot/data"]
USER 10001:10001
EXPOSE 9100
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=4)"]
ENTRYPOINT ["wanbot"]
CMD ["serve"]
