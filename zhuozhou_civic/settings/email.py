from .core import DEBUG
from .env import DATA_DIR, env_int, env_str

EMAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    # The embedded default writes each mail to a file so it can be read without an SMTP server.
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(DATA_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_str("EMAIL_USE_TLS", "") in {"1", "true"}
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "涿州i志愿 <noreply@zhuozhou-civic.invalid>")
