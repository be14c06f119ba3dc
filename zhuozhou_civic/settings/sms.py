"""Text messages (one-time codes for registration, log-in and password reset) and the privacy notice.

``SMS_BACKENDS`` lists the dotted paths of the backends every message goes through, comma-separated
in the environment. Without it — the embedded default, a developer's laptop — messages are not sent
to any phone: each is logged to the console, appended to ``SMS_FILE_PATH`` (one line a message) and
put in the in-app inbox of every administrator. Production sets
``SMS_BACKENDS=apps.accounts.sms.aliyun.AliyunSmsBackend`` and the ``SMS_ALIYUN_*`` variables.
"""

from .env import DATA_DIR, env_int, env_list, env_str

DEVELOPMENT_SMS_BACKENDS = [
    "apps.accounts.sms.development.ConsoleSmsBackend",
    "apps.accounts.sms.development.FileSmsBackend",
    # In the notifications app, which accounts may not import: loaded by name.
    "apps.notifications.sms_inbox.AdminInboxSmsBackend",
]
SMS_BACKENDS = env_list("SMS_BACKENDS", DEVELOPMENT_SMS_BACKENDS)
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(DATA_DIR / "sms.log"))

# 阿里云短信服务 (dysmsapi SendSms). The template is an approved verification-code template whose
# variable is ``${code}``; the signature is the approved 短信签名.
SMS_ALIYUN_ENDPOINT = env_str("SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
SMS_ALIYUN_ACCESS_KEY_ID = env_str("SMS_ALIYUN_ACCESS_KEY_ID")
SMS_ALIYUN_ACCESS_KEY_SECRET = env_str("SMS_ALIYUN_ACCESS_KEY_SECRET")
SMS_ALIYUN_SIGN_NAME = env_str("SMS_ALIYUN_SIGN_NAME")
SMS_ALIYUN_TEMPLATE_CODE = env_str("SMS_ALIYUN_TEMPLATE_CODE")
SMS_ALIYUN_REGION = env_str("SMS_ALIYUN_REGION", "cn-hangzhou")
SMS_ALIYUN_TIMEOUT = env_int("SMS_ALIYUN_TIMEOUT_SECONDS", 5)

# One-time codes (apps.accounts.verification): how long one lives, how many wrong tries kill it,
# how soon another may be sent to the same number for the same purpose, and how many may be sent
# per hour to one number and from one client address (counted in the shared cache).
SMS_CODE_TTL = env_int("SMS_CODE_TTL_SECONDS", 5 * 60)
SMS_CODE_MAX_ATTEMPTS = env_int("SMS_CODE_MAX_ATTEMPTS", 5)
SMS_CODE_RESEND_SECONDS = env_int("SMS_CODE_RESEND_SECONDS", 60)
SMS_CODE_PHONE_HOURLY_LIMIT = env_int("SMS_CODE_PHONE_HOURLY_LIMIT", 5)
SMS_CODE_ADDRESS_HOURLY_LIMIT = env_int("SMS_CODE_ADDRESS_HOURLY_LIMIT", 20)

# The privacy notice at /privacy/: the version a registering person consents to is stored on the
# user with the time (PIPL Art. 14). Change it whenever the notice's content changes.
PRIVACY_NOTICE_VERSION = "2025-1"
