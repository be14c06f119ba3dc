import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhuozhou_civic.settings")
application = get_wsgi_application()

from .startup import require_secret_key  # noqa: E402 — needs the settings configured above

require_secret_key()
