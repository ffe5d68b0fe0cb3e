# Cartograph: one image for the web server, the Celery worker and Celery beat (docker-compose.yml picks the command).

# Static files: the pinned npm packages copied into frontend/build by `npm run build`. Node stays in this stage.
FROM node:20-bookworm-slim AS static
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ frontend/
RUN npm run build


FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    STATIC_ROOT=/app/var/static \
    MEDIA_ROOT=/app/var/media
WORKDIR /app

RUN groupadd --system --gid 10001 cartograph \
    && useradd --system --uid 10001 --gid cartograph --home-dir /app --no-create-home --shell /usr/sbin/nologin cartograph

# Dependencies first, so that a code change does not reinstall them. psycopg-binary needs no system libraries.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --chown=cartograph:cartograph . .
COPY --from=static --chown=cartograph:cartograph /app/frontend/build/ frontend/build/
RUN mkdir -p var/static var/media && chown -R cartograph:cartograph var

USER cartograph
# Production settings keep static files in whitenoise's CompressedManifestStaticFilesStorage, which needs the
# manifest that collectstatic writes. The key below only lets the settings load for this step; it is not used after.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput -v0

EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "config.wsgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--blocking-threads", "4", "--no-ws"]
