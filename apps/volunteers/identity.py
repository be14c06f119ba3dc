"""Identity documents of real-name registration (志愿服务条例 Art. 7): validation, what a number
tells (birth date, gender), the keyed look-up hash and masking.

居民身份证 numbers follow GB 11643-1999: 6 digits of address code, 8 of birth date (YYYYMMDD),
3 of sequence (odd for men, even for women) and a check character computed ISO 7064 MOD 11-2
over the first 17 (``X`` stands for 10). 港澳台居民居住证 numbers have the same structure, with
address codes 810000 (Hong Kong), 820000 (Macao) and 830000 (Taiwan). Passports are 5–20 letters
and digits; their holder types birth date and gender."""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.text import clean_number

from .models import Gender, IdType

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_EIGHTEEN = re.compile(r"^\d{17}[\dX]$")
_PERMIT_PREFIXES = ("810000", "820000", "830000")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")

# The youngest age at which a person may sign up at all, and the age from which no guardian is needed.
MIN_AGE = 14
ADULT_AGE = 18


@dataclass(frozen=True)
class IdDocument:
    id_type: str
    number: str
    birth_date: date | None  # derived from the number; None for a passport
    gender: str | None  # ``Gender`` value derived from the number; None for a passport


def normalize_id_number(raw: str) -> str:
    """Full-width digits and letters made ASCII, spaces and invisible characters removed, upper case."""
    return clean_number(raw or "").upper()


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _eighteen_digit(number: str, *, id_type: str) -> IdDocument:
    if len(number) != 18 or not _EIGHTEEN.match(number):
        raise ValidationError(_("证件号码应为18位，最后一位可以是数字或X。"), code="id_length")
    if id_type == IdType.RESIDENCE_PERMIT and not number.startswith(_PERMIT_PREFIXES):
        raise ValidationError(_("港澳台居民居住证号码以810000、820000或830000开头。"), code="id_permit_prefix")
    if id_type == IdType.RESIDENT_ID and number.startswith(_PERMIT_PREFIXES):
        raise ValidationError(_("这是港澳台居民居住证号码，请选择对应的证件类型。"), code="id_permit_prefix")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("证件号码中的出生日期不存在，请核对。"), code="id_birth_date") from None
    today = timezone.localdate()
    if born > today or born.year < 1900:
        raise ValidationError(_("证件号码中的出生日期不正确，请核对。"), code="id_birth_date")
    if check_character(number[:17]) != number[17]:
        raise ValidationError(_("证件号码校验位不正确，请核对是否输错。"), code="id_checksum")
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return IdDocument(id_type=id_type, number=number, birth_date=born, gender=gender)


def parse_id(id_type: str, raw: str) -> IdDocument:
    """Validate an identity document number of ``id_type``; raises ValidationError with a
    translated message and a code (``id_type``, ``id_length``, ``id_birth_date``, ``id_checksum``,
    ``id_permit_prefix``, ``id_passport``)."""
    number = normalize_id_number(raw)
    if id_type in (IdType.RESIDENT_ID, IdType.RESIDENCE_PERMIT):
        return _eighteen_digit(number, id_type=id_type)
    if id_type == IdType.PASSPORT:
        if not _PASSPORT.match(number):
            raise ValidationError(_("护照号码应为5至20位字母或数字。"), code="id_passport")
        return IdDocument(id_type=id_type, number=number, birth_date=None, gender=None)
    raise ValidationError(_("请选择证件类型。"), code="id_type")


def age_on(birth_date: date, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def id_digest(id_type: str, number: str) -> str:
    """Keyed hash of the document (type and normalised number): finds a second registration of
    the same person without the number being stored or compared in clear."""
    if not settings.PHONE_LOOKUP_KEY:
        raise ImproperlyConfigured("PHONE_LOOKUP_KEY or DJANGO_SECRET_KEY is required to look ID numbers up.")
    message = f"id:{id_type}:{normalize_id_number(number)}".encode()
    return hmac.new(settings.PHONE_LOOKUP_KEY.encode(), message, hashlib.sha256).hexdigest()


def mask_id(number: str | None) -> str:
    """``130681199001011234`` → ``130681********1234``: region and last four, never the birth date."""
    if not number:
        return ""
    if len(number) >= 18:
        return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"
    if len(number) > 4:
        return f"{'*' * (len(number) - 4)}{number[-4:]}"
    return "*" * len(number)
