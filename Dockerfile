FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ZC_DATA_DIR=/var/lib/zhuozhou_civic
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# Translations are compiled from the committed .po files; static files are collected for WhiteNoise.
RUN pybabel compile --domain=django --directory=locale \
 && DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput \
 && useradd --system --home /app zhuozhou \
 && mkdir -p "$ZC_DATA_DIR" && chown zhuozhou "$ZC_DATA_DIR"
USER zhuozhou

EXPOSE 8000
CMD ["gunicorn", "zhuozhou_civic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
