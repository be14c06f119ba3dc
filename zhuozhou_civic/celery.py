import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhuozhou_civic.settings")

app = Celery("zhuozhou_civic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
