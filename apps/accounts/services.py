from django.db import IntegrityError, transaction

from .models import User
from .phones import phone_digest, validate_mobile


def resident_get_or_create(*, phone: str, name: str) -> User:
    """Find the resident with this phone, or register them without a password (代点单 for
    someone who has never used the platform; they can set a password later)."""
    phone = validate_mobile(phone)
    digest = phone_digest(phone)
    existing = User.objects.filter(phone_digest=digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return User.objects.create_user(phone=phone, password=None, name=name)
    except IntegrityError:  # registered concurrently
        return User.objects.get(phone_digest=digest)
