from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from apps.core.errors import Conflict
from apps.organisation.models import Place

from .models import CodePurpose, User
from .phones import phone_digest, validate_mobile
from .throttling import record_login_success
from .verification import sms_code_consume


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


def _active_user(phone: str) -> User | None:
    return User.objects.filter(phone_digest=phone_digest(phone), is_active=True).first()


def resident_register(*, phone: str, code: str, name: str, password: str, village: Place) -> User:
    """Register a resident who proved the number with the code sent for registration.

    Preconditions: the fields are valid (a mobile number, a name, a password that passed the
    validators, a village). Uses the code (a wrong one is counted: call outside a transaction),
    then creates the user with the home village and its township, consent to the privacy notice
    of ``settings.PRIVACY_NOTICE_VERSION`` at this moment, and the password. A number that already
    has an account is refused with ``Conflict`` (code ``phone_registered``) — told only to whoever
    holds the code, i.e. the number's owner."""
    phone = validate_mobile(phone)
    sms_code_consume(phone=phone, purpose=CodePurpose.REGISTER, code=code)
    registered = Conflict(
        _("该手机号已有账户（可能是工作人员为您登记的）。请直接用验证码登录，或用“忘记密码”设置密码。"),
        code="phone_registered",
    )
    if User.objects.filter(phone_digest=phone_digest(phone)).exists():
        raise registered
    try:
        with transaction.atomic():
            return User.objects.create_user(
                phone=phone,
                password=password,
                name=name,
                home_village=village,
                home_township_id=village.parent_id,
                privacy_version=settings.PRIVACY_NOTICE_VERSION,
                privacy_consented_at=timezone.now(),
            )
    except IntegrityError:  # registered concurrently
        raise registered from None


def user_for_login_code(*, phone: str, code: str) -> User:
    """The active user of ``phone`` if ``code`` is the log-in code sent to it (uses the code;
    a wrong one is counted). A successful log-in clears the account's password-lockout count:
    the code proves the person holds the phone."""
    phone = validate_mobile(phone)
    sms_code_consume(phone=phone, purpose=CodePurpose.LOGIN, code=code)
    user = _active_user(phone)
    if user is None:  # no code was sent to it; only a lucky guess gets here
        raise ValidationError(_("验证码已过期或已使用，请重新获取验证码。"), code="code_expired")
    record_login_success(None, phone)
    return user


def user_set_password_with_code(*, phone: str, code: str, password: str) -> User:
    """Set a new password for the active user of ``phone`` who proved the number with the code
    sent for setting a password — also a user who never had one (a volunteer from an imported
    roster, a resident registered by staff). Signs the user out everywhere else: every API token
    is deleted, and the new password ends other sessions. Precondition: the password passed the
    validators."""
    phone = validate_mobile(phone)
    sms_code_consume(phone=phone, purpose=CodePurpose.RESET_PASSWORD, code=code)
    user = _active_user(phone)
    if user is None:
        raise ValidationError(_("验证码已过期或已使用，请重新获取验证码。"), code="code_expired")
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        Token.objects.filter(user=user).delete()
    record_login_success(None, phone)
    return user
