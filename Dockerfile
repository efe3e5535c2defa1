# Production image: gunicorn serving config.wsgi; the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

# GeoDjango's runtime libraries (GDAL, GEOS, PROJ come with gdal-bin) and SpatiaLite; gettext to
# compile the zh_Hans catalogues; the CJK font embedded in PDFs and drawn in charts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gdal-bin libsqlite3-mod-spatialite gettext fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && rm -rf build *.egg-info

# Static files are baked into the image; whitenoise serves them. The keys below exist only
# for this build step (settings refuse to start without them when DEBUG is off).
RUN DEBUG=false \
    SECRET_KEY=collectstatic-only \
    LEDGER_SIGNING_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput \
    && for po in */locale/*/LC_MESSAGES/django.po; do msgfmt --check-format -o "${po%.po}.mo" "$po"; done

RUN useradd --system --create-home --uid 10001 zerowaste \
    && mkdir -p /app/var/media \
    && chown -R zerowaste:zerowaste /app/var
USER zerowaste

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "-b", "0.0.0.0:8000", "-w", "4", "--access-logfile", "-"]
