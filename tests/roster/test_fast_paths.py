"""The import's fast paths give what the slow ones gave: the streaming sheet reader what
openpyxl's read-only worksheet gives, COPY what the ORM writes (the same encrypted values,
defaults and numbers), and the shortcuts in validation what the full normalisers give."""

import zipfile
from datetime import date, datetime, time, timedelta
from io import BytesIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from apps.accounts.models import User
from apps.accounts.phones import validate_mobile
from apps.core.text import clean_text
from apps.roster import inserts, services
from apps.roster.reading import RosterFileError, _is_plain_mobile, _Sheet, _text, iter_data_rows
from apps.roster.services import import_job_create, roster_import_run
from apps.volunteers.models import VolunteerEvent, VolunteerProfile
from apps.volunteers.services import assign_volunteer_number
from tests.accounts.factories import make_user
from tests.roster.factories import person, workbook

pytestmark = pytest.mark.django_db


def _save(book: Workbook) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _openpyxl_rows(data: bytes) -> dict[int, tuple[Any, ...]]:
    """Rows as openpyxl's read-only worksheet gives them (row 1 first, gaps as empty rows)."""
    book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    try:
        return dict(enumerate(book.worksheets[0].iter_rows(values_only=True), start=1))
    finally:
        book.close()


def _streamed_rows(data: bytes) -> dict[int, tuple[Any, ...]]:
    sheet = _Sheet(data)
    try:
        return dict(sheet.rows())
    finally:
        sheet.close()


def _normal_workbook() -> bytes:
    """Shared strings, a declared dimension, every kind of cell, gaps of rows and columns."""
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号", 3, 4.5, True, None, date(1990, 1, 2), datetime(2020, 1, 2, 3, 4), "=A1", 1e20, -7])
    sheet["C5"] = "x"
    sheet["Z9"] = 12
    sheet["B10"] = " 空格  两个 "
    sheet["A12"] = CellRichText(["普通", TextBlock(InlineFont(b=True), "加粗")])
    sheet["D3"] = time(3, 4)
    sheet["E3"] = timedelta(days=1, hours=2)
    sheet["F3"] = False
    return _save(book)


def _write_only_workbook() -> bytes:
    """Inline strings and no dimension, as openpyxl's write-only mode (and other tools) write."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["a", None, 1, "", " b "])
    sheet.append([])
    sheet.append([None, None, "c\td"])
    sheet.append([date(2000, 5, 6), False, 13912345678])
    return _save(book)


def _epoch_1904_workbook() -> bytes:
    book = Workbook()
    book.epoch = datetime(1904, 1, 1)
    book.active.append([date(2000, 5, 6), 1.5])
    return _save(book)


def _two_sheets_workbook() -> bytes:
    book = Workbook()
    book.active["B2"] = "first"
    book.create_sheet("second")["A1"] = "not read"
    return _save(book)


@pytest.mark.parametrize(
    "make",
    [_normal_workbook, _write_only_workbook, _epoch_1904_workbook, _two_sheets_workbook],
    ids=lambda f: f.__name__,
)
def test_the_streaming_reader_gives_what_openpyxl_read_only_gives(make):
    data = make()
    expected = _openpyxl_rows(data)
    streamed = _streamed_rows(data)
    assert set(streamed) <= set(expected)
    for number, values in expected.items():
        if number in streamed:
            assert streamed[number] == values, number
        else:  # a row the sheet does not have: openpyxl fills it in, empty
            assert all(value is None for value in values), number


def test_a_roster_reads_the_same_through_both_readers():
    rows = [person(n) for n in range(1, 30)]
    rows[4]["phone"] = 13912345678  # a number Excel stored as a number
    data = workbook(rows)
    expected = _openpyxl_rows(data)
    assert _streamed_rows(data) == expected
    raw = list(iter_data_rows(data))
    assert [r.row for r in raw] == list(range(2, 31))
    assert raw[4].cells["phone"] == 13912345678
    assert raw[0].cells["name"] == "志愿者1"


def test_a_damaged_sheet_is_unreadable_not_a_crash():
    data = _write_only_workbook()
    source = zipfile.ZipFile(BytesIO(data))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]  # cut in the middle of the sheet
            target.writestr(info, content)
    with pytest.raises(RosterFileError) as caught:
        list(_Sheet(buffer.getvalue()).rows())
    assert caught.value.code == "unreadable"


@pytest.mark.parametrize(
    "value",
    [
        "张三",
        " 张  三 ",
        "a\u200bb",
        "ｆｕｌｌ",
        "e\u0301",
        "\u3000东关村\u3000",
        "x\ty",
        "line\r\nbreak",
        "  ",
        "13912345678",
    ],
)
def test_text_cells_are_cleaned_as_clean_text_cleans_them(value):
    assert _text(value) == clean_text(value)


@pytest.mark.parametrize(
    "value", ["13912345678", "12912345678", "23912345678", "1391234567", "139123456789", "１３９１２３４５６７８"]
)
def test_plain_mobiles_are_exactly_what_validate_mobile_accepts_unchanged(value):
    try:
        accepted = validate_mobile(value) == value
    except ValidationError:
        accepted = False
    assert _is_plain_mobile(value) == accepted


def test_the_volunteer_number_is_the_one_assign_volunteer_number_gives(cast):
    profile = cast.volunteer
    VolunteerProfile.objects.filter(id=profile.id).update(volunteer_number=None)
    profile.volunteer_number = None
    assign_volunteer_number(profile)
    assert profile.volunteer_number == services.volunteer_number(profile.id)
    assert services.volunteer_number(42) == "ZZV0000042"


def _import(uploader: User, rows: list[dict[str, Any]]) -> None:
    job = import_job_create(uploader=uploader, file_name="名册.xlsx", data=workbook(rows))
    roster_import_run(job_id=job.id)


# What may differ between two imported people, or two runs: their own data, ids and times.
_PER_PERSON = {"id", "user_id", "volunteer_number", "id_number", "id_digest", "birth_date", "gender", "phone"}
_TIMES = {"created_at", "submitted_at", "reviewed_at", "date_joined", "at"}


def _row(model: Any, pk: int) -> dict[str, Any]:
    return {
        key: value
        for key, value in model.objects.filter(id=pk).values().get().items()
        if key not in _PER_PERSON | _TIMES | {"password", "phone_digest", "name", "volunteer_id"}
    }


def test_copy_writes_what_the_orm_writes(cast, monkeypatch):
    """The same roster row imported by COPY and by bulk_create: equal rows, and the encrypted
    phone and ID number read back through the ORM (so stored in the ORM's own format)."""
    assert inserts.supported()
    fast_row = person(1, skills="急救、驾驶", political_status="群众", occupation="教师")
    slow_row = person(2, skills="急救、驾驶", political_status="群众", occupation="教师")
    _import(cast.staff_a, [fast_row])
    monkeypatch.setattr(inserts, "supported", lambda: False)
    _import(cast.staff_a, [slow_row])

    fast = VolunteerProfile.objects.select_related("user").get(user__name="志愿者1")
    slow = VolunteerProfile.objects.select_related("user").get(user__name="志愿者2")
    assert (fast.id_number, fast.user.phone) == (fast_row["id_number"], fast_row["phone"])
    assert (slow.id_number, slow.user.phone) == (slow_row["id_number"], slow_row["phone"])
    assert fast.volunteer_number == f"ZZV{fast.id:07d}"
    assert slow.volunteer_number == f"ZZV{slow.id:07d}"
    assert _row(VolunteerProfile, fast.id) == _row(VolunteerProfile, slow.id)
    assert _row(User, fast.user_id) == _row(User, slow.user_id)
    assert fast.user.has_usable_password() is slow.user.has_usable_password() is False
    assert list(fast.categories.values_list("id", flat=True)) == list(slow.categories.values_list("id", flat=True))
    assert fast.skills == slow.skills == ["first_aid", "driving"]
    [fast_event] = fast.events.all()
    [slow_event] = slow.events.all()
    assert _row(VolunteerEvent, fast_event.id) | {"reason": ""} == _row(VolunteerEvent, slow_event.id) | {"reason": ""}
    assert fast_event.at is not None and fast.created_at is not None and fast.user.date_joined is not None
    # Stored encrypted: the clear values are nowhere in the rows.
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [fast.user_id])
        [(stored_phone,)] = cursor.fetchall()
        cursor.execute("SELECT id_number FROM volunteers_volunteerprofile WHERE id = %s", [fast.id])
        [(stored_id,)] = cursor.fetchall()
    assert fast_row["phone"] not in stored_phone and fast_row["id_number"] not in stored_id


def test_copy_escapes_what_copy_text_must_escape(cast):
    """Backslashes, tabs, line breaks and NULL round-trip through COPY's text format."""
    profile = cast.volunteer
    template = VolunteerEvent(kind=VolunteerEvent.Kind.IMPORTED, actor_id=None, reason="")
    reasons = ["a\\b", "tab\there", "two\nlines\r\n", "\\N", ""]
    count = inserts.RowInserter(template, ("volunteer_id", "reason")).insert(
        [(profile.id, reason) for reason in reasons]
    )
    assert count == 5
    stored = VolunteerEvent.objects.filter(volunteer=profile, kind=VolunteerEvent.Kind.IMPORTED).order_by("id")
    assert [event.reason for event in stored] == reasons
    assert [event.actor_id for event in stored] == [None] * 5  # the template's value


def test_copy_refuses_a_value_it_cannot_write():
    with pytest.raises(TypeError, match="no COPY text for object"):
        inserts.copy_text(object())


def test_allocated_ids_are_fresh_and_ascending():
    first = inserts.allocate_ids(User, 3)
    second = inserts.allocate_ids(User, 2)
    assert first == sorted(first) and len(set(first + second)) == 5 and min(second) > max(first)
    assert inserts.allocate_ids(User, 0) == []
    user = make_user()
    assert user.id > max(second)
