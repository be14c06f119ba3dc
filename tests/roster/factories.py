"""Roster workbooks built in the test: valid ID numbers for a birth date, and rows."""

from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook

from apps.roster.columns import COLUMNS
from apps.volunteers.identity import check_character

HEADERS = [str(column.label) for column in COLUMNS]
KEYS = [column.key for column in COLUMNS]


def id_number(*, born: date = date(1980, 5, 17), sequence: int = 1, region: str = "130681") -> str:
    """A valid 居民身份证 number: ``sequence`` (0–999) odd for a man, even for a woman."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_character(first17)


def phone(n: int) -> str:
    return f"158{n:08d}"


def person(n: int, **overrides: Any) -> dict[str, Any]:
    """Row ``n`` of a roster: a distinct adult of 桃园街道 太平庄村 serving 便民服务."""
    row: dict[str, Any] = {
        "name": f"志愿者{n}",
        "phone": phone(n),
        "id_type": "",
        "id_number": id_number(born=date(1960 + n % 40, 1 + n % 12, 1 + n % 28), sequence=n % 1000),
        "township": "桃园街道",
        "village": "太平庄村",
        "categories": "便民服务",
        "skills": "",
        "political_status": "",
        "occupation": "",
    }
    row.update(overrides)
    return row


def workbook(rows: list[dict[str, Any]], *, headers: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers or HEADERS)
    for row in rows:
        sheet.append([row.get(key, "") for key in KEYS])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
