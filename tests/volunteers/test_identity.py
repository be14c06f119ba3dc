"""Identity documents (志愿服务条例 Art. 7): a table of numbers and what the platform makes of them."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.volunteers.identity import mask_id, parse_id
from apps.volunteers.models import Gender, IdType
from tests.volunteers.ids import check_char, resident_id, with_x_check

VALID = resident_id(date(1990, 1, 1), sequence="123")  # sequence 123: odd, a man
X_NUMBER = with_x_check()


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def wrong_check(number: str) -> str:
    right = number[17]
    return number[:17] + next(c for c in "0123456789X" if c != right)


TOMORROW = "tomorrow"


def tomorrow_number() -> str:
    return resident_id(timezone.localdate() + timedelta(days=1))


@pytest.mark.parametrize(
    ("id_type", "raw", "number", "born", "gender"),
    [
        (IdType.RESIDENT_ID, VALID, VALID, date(1990, 1, 1), Gender.MALE),
        (IdType.RESIDENT_ID, resident_id(date(2000, 2, 29), sequence="124"), None, date(2000, 2, 29), Gender.FEMALE),
        (IdType.RESIDENT_ID, X_NUMBER, X_NUMBER, date(1990, 1, 1), None),
        (IdType.RESIDENT_ID, X_NUMBER[:17] + "x", X_NUMBER, date(1990, 1, 1), None),
        (IdType.RESIDENT_ID, full_width(VALID), VALID, date(1990, 1, 1), Gender.MALE),
        (IdType.RESIDENT_ID, f" {VALID[:6]} {VALID[6:14]} {VALID[14:]} ", VALID, date(1990, 1, 1), Gender.MALE),
        (
            IdType.RESIDENCE_PERMIT,
            resident_id(date(1985, 6, 15), region="810000"),
            None,
            date(1985, 6, 15),
            Gender.MALE,
        ),
        (IdType.RESIDENCE_PERMIT, resident_id(date(1985, 6, 15), region="820000"), None, date(1985, 6, 15), None),
        (IdType.RESIDENCE_PERMIT, resident_id(date(1985, 6, 15), region="830000"), None, date(1985, 6, 15), None),
        (IdType.PASSPORT, "e12345678", "E12345678", None, None),
        (IdType.PASSPORT, full_width("G1234567"), "G1234567", None, None),
    ],
)
def test_valid_numbers_give_the_birth_date_and_gender_they_carry(id_type, raw, number, born, gender) -> None:
    document = parse_id(id_type, raw)
    assert document.id_type == id_type
    assert document.number == (number or raw)
    assert document.birth_date == born
    if gender is not None:
        assert document.gender == gender
    if id_type != IdType.PASSPORT:
        assert check_char(document.number[:17]) == document.number[17]


@pytest.mark.parametrize(
    ("id_type", "raw", "code", "message"),
    [
        (IdType.RESIDENT_ID, wrong_check(VALID), "id_checksum", "证件号码校验位不正确，请核对是否输错。"),
        (IdType.RESIDENT_ID, VALID[:17], "id_length", "证件号码应为18位，最后一位可以是数字或X。"),
        (IdType.RESIDENT_ID, VALID + "1", "id_length", "证件号码应为18位，最后一位可以是数字或X。"),
        (IdType.RESIDENT_ID, VALID[:16] + "X1", "id_length", "证件号码应为18位，最后一位可以是数字或X。"),
        (IdType.RESIDENT_ID, "", "id_length", "证件号码应为18位，最后一位可以是数字或X。"),
        (
            IdType.RESIDENT_ID,
            "130681199002301234"[:17] + check_char("13068119900230123"),
            "id_birth_date",
            "证件号码中的出生日期不存在，请核对。",
        ),
        (
            IdType.RESIDENT_ID,
            "13068119901301123" + check_char("13068119901301123"),
            "id_birth_date",
            "证件号码中的出生日期不存在，请核对。",
        ),
        # Worked out when the test runs, not when it is collected: a run may cross midnight.
        (IdType.RESIDENT_ID, TOMORROW, "id_birth_date", "证件号码中的出生日期不正确，请核对。"),
        (
            IdType.RESIDENT_ID,
            resident_id(date(1985, 6, 15), region="810000"),
            "id_permit_prefix",
            "这是港澳台居民居住证号码，请选择对应的证件类型。",
        ),
        (
            IdType.RESIDENCE_PERMIT,
            VALID,
            "id_permit_prefix",
            "港澳台居民居住证号码以810000、820000或830000开头。",
        ),
        (IdType.PASSPORT, "E12", "id_passport", "护照号码应为5至20位字母或数字。"),
        (IdType.PASSPORT, "E1234-5678", "id_passport", "护照号码应为5至20位字母或数字。"),
        ("driving_licence", VALID, "id_type", "请选择证件类型。"),
    ],
)
def test_invalid_numbers_are_refused_with_a_clear_message(id_type, raw, code, message) -> None:
    if raw == TOMORROW:
        raw = tomorrow_number()
    with pytest.raises(ValidationError) as caught:
        parse_id(id_type, raw)
    assert caught.value.code == code
    assert caught.value.messages == [message]


def test_a_number_is_masked_to_its_region_and_last_four() -> None:
    assert mask_id(X_NUMBER) == f"130681********{X_NUMBER[-4:]}"
    assert mask_id("E12345678") == "*****5678"
    assert mask_id(None) == ""
