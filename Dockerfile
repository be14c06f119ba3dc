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
# The same gunicorn settings as the README's deployment steps and `manage.py serve` (gunicorn.conf.py:
# threaded workers, keep-alive longer than clients keep idle connections); only the address differs.
CMD ["gunicorn", "--config=gunicorn.conf.py", "--bind=0.0.0.0:8000", "zhuozhou_civic.wsgi:application"]
