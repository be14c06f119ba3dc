import hashlib

from .core import SECRET_KEY
from .env import env_str

# Encrypted personal-data fields (phones, addresses) derive their Fernet keys from SECRET_KEY
# (and SECRET_KEY_FALLBACKS, for rotation) with this salt.
SALT_KEY = env_str("FIELD_ENCRYPTION_SALT", "zhuozhou-civic-field-encryption")

# Key of the keyed hash that lets us look a phone number up without storing it in clear.
# Set it explicitly in production so that rotating SECRET_KEY does not orphan logins.
# Never derived from an empty secret: then it stays empty and phone look-ups refuse to run.
PHONE_LOOKUP_KEY = env_str("PHONE_LOOKUP_KEY") or (
    hashlib.sha256(("phone-lookup:" + SECRET_KEY).encode()).hexdigest() if SECRET_KEY else ""
)
