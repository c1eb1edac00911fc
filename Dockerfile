# Coordo, production image (not built on the build machines: no Docker engine there; it runs
# the commands CI tests — see docs/deploy.md).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 COORDO_ENV=production \
    BIND=0.0.0.0:8000 STATIC_ROOT=/srv/coordo/staticfiles MEDIA_ROOT=/srv/media
RUN useradd --create-home --home-dir /srv/coordo coordo && mkdir -p /srv/media \
    && chown coordo /srv/media
WORKDIR /srv/coordo
COPY --chown=coordo . .
USER coordo
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -c requirements.lock -e .
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["./dev.sh", "serve"]
