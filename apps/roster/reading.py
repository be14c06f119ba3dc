"""Reading a roster workbook: checking an upload, and turning every data row into either a
clean record or the reasons it is refused.

Rows are streamed (openpyxl ``read_only``), so a workbook of tens of thousands of rows never
sits in memory as cells; what is kept is one small record per row."""

import itertools
import re
import unicodedata
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from typing import Any
from xml.etree.ElementTree import ParseError

from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import WorkSheetParser, _cast_number
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from apps.accounts.areas import Area
from apps.accounts.phones import phone_digest, validate_mobile
from apps.core.text import clean_text
from apps.organisation.models import Place, ServiceCategory
from apps.volunteers.identity import ADULT_AGE, age_on, id_digest, parse_id
from apps.volunteers.models import Gender, IdType, PoliticalStatus, Skill

from .columns import COLUMNS, example_markers, header_keys, in_every_language
from .messages import file_message

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# What the workbook may unpack to: a 50,000-row roster is about 30 MB of XML.
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_ROWS = 100_000
NAME_MAX = 50
OCCUPATION_MAX = 50
_LIST_SEPARATORS = re.compile(r"[、,，;；/]+")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_VILLAGE_SUFFIXES = ("社区", "村")


class RosterFileError(Exception):
    """The upload as a whole is refused; ``code`` is a key of ``messages.FILE_MESSAGES``."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return file_message(self.code, self.params)


def _open(data: bytes) -> "_Sheet":
    if not data:
        raise RosterFileError("empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise RosterFileError("too_large", max_mb=MAX_UPLOAD_BYTES // (1024 * 1024))
    if not data.startswith(b"PK\x03\x04"):
        raise RosterFileError("not_xlsx")
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise RosterFileError("not_xlsx") from None
    if "xl/workbook.xml" not in names:
        raise RosterFileError("not_xlsx")
    if unpacked > MAX_UNPACKED_BYTES:
        raise RosterFileError("too_large", max_mb=MAX_UPLOAD_BYTES // (1024 * 1024))
    try:
        return _Sheet(data)
    except RosterFileError:
        raise
    except Exception:  # openpyxl raises many kinds (KeyError, TypeError, XML errors) on a damaged file
        raise RosterFileError("unreadable") from None


# The worksheet's XML elements the reader looks at.
_ROW_TAG = f"{{{SHEET_MAIN_NS}}}row"
_VALUE_TAG = f"{{{SHEET_MAIN_NS}}}v"
_INLINE_TAG = f"{{{SHEET_MAIN_NS}}}is"
_TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
_DIMENSION_TAG = f"{{{SHEET_MAIN_NS}}}dimension"


class _Sheet:
    """The first worksheet of a workbook, read as openpyxl's read-only mode reads it
    (``iter_rows(values_only=True)`` with ``data_only``: the same values, dates and numbers),
    in one streaming pass instead of two and without a Python object per cell.

    openpyxl's read-only worksheet first parses the whole sheet looking for a ``<dimension>``
    that workbooks written by many tools (openpyxl's own write-only mode among them) do not
    have, and builds a dict per cell; for a 50,000-row roster that was most of the reading.
    Here the workbook's parts (shared strings, styles for the date formats, the sheet list) are
    read by openpyxl's own ``ExcelReader``; the sheet's rows are streamed here, the common cells
    (shared and inline strings, plain numbers) decoded directly and every other kind (dates,
    booleans, rich text, errors …) handed to openpyxl's own cell parser."""

    def __init__(self, data: bytes) -> None:
        reader = ExcelReader(BytesIO(data), read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        self._archive = reader.archive
        self._shared_strings = reader.shared_strings
        self._workbook = reader.wb
        self._path: str | None = None
        for _sheet, rel in reader.parser.find_sheets():
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
                self._path = rel.target
                break

    @property
    def has_sheet(self) -> bool:
        return self._path is not None

    def close(self) -> None:
        self._archive.close()

    def rows(self) -> Generator[tuple[int, tuple[Any, ...]]]:
        """(Excel's row number, the row's values from column A) for every row present in the
        sheet, in order; a row's values run to the sheet's declared last column, or to its own
        last cell when the sheet declares no dimension, as openpyxl gives them."""
        assert self._path is not None
        workbook = self._workbook
        with self._archive.open(self._path) as source:
            cells = WorkSheetParser(
                source,
                self._shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            try:
                yield from self._parse(source, cells)
            except (ParseError, ValueError, KeyError, IndexError, TypeError):  # a damaged sheet
                raise RosterFileError("unreadable") from None

    def _parse(self, source: Any, cells: WorkSheetParser) -> Generator[tuple[int, tuple[Any, ...]]]:
        shared = self._shared_strings
        date_formats = cells.date_formats
        max_row: int | None = None
        max_col: int | None = None
        row_counter = 0
        for _event, element in iterparse(source):
            tag = element.tag
            if tag != _ROW_TAG:
                # The parts of a row are read with their row, which is then cleared.
                if tag == _DIMENSION_TAG:
                    boundaries = SheetDimension.from_tree(element).boundaries
                    if boundaries is not None:
                        max_col, max_row = boundaries[2], boundaries[3]
                continue
            number = element.get("r")
            row_counter = _row_number(number) if number is not None else row_counter + 1
            if max_row is not None and row_counter > max_row:
                break
            values: list[Any] = [None] * max_col if max_col is not None else []
            col_counter = 0
            for cell in element:
                coordinate = cell.get("r")
                col_counter = _column_number(coordinate) if coordinate else col_counter + 1
                kind = cell.get("t")
                style = cell.get("s")
                if kind == "s":
                    text = cell.findtext(_VALUE_TAG)
                    value = shared[int(text)] if text else None
                elif kind == "inlineStr":
                    inline = cell.find(_INLINE_TAG)
                    if inline is None:
                        value = None
                    elif len(inline) == 1 and inline[0].tag == _TEXT_TAG and inline[0].text is not None:
                        value = inline[0].text
                    else:
                        value = Text.from_tree(inline).content
                elif kind in (None, "n") and (not style or int(style) not in date_formats):
                    text = cell.findtext(_VALUE_TAG)
                    value = _cast_number(text) if text else None
                else:
                    cells.row_counter, cells.col_counter = row_counter, col_counter - 1
                    value = cells.parse_cell(cell)["value"]
                if max_col is None:
                    if col_counter > len(values):
                        values.extend([None] * (col_counter - len(values)))
                elif col_counter > max_col:
                    continue
                if col_counter >= 1:
                    values[col_counter - 1] = value
            element.clear()
            yield row_counter, tuple(values)


def _row_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise
        return int(number)


def _column_number(coordinate: str) -> int:
    number = 0
    for char in coordinate:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        elif char != "$":
            break
    return number


def _text(value: Any) -> str:
    """A cell as text. Whole numbers lose the ``.0`` Excel gives every number."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    value = str(value)
    # clean_text's result without its per-character work for text that has nothing to remove
    # or recompose: no control, format or unusual space character (isprintable) and already NFC.
    if value.isprintable() and (value.isascii() or unicodedata.is_normalized("NFC", value)):
        return " ".join(value.split())
    return clean_text(value)


def _header_map(header: tuple[Any, ...]) -> dict[int, str]:
    known = header_keys()
    mapping: dict[int, str] = {}
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for index, cell in enumerate(header):
        key = known.get(_text(cell))
        if key is None:
            continue
        if key in seen:
            duplicates.append(_text(cell))
        seen[key] = index
        mapping[index] = key
    if duplicates:
        raise RosterFileError("duplicate_headers", duplicates="、".join(duplicates))
    missing = [str(column.label) for column in COLUMNS if column.required and column.key not in seen]
    if missing:
        raise RosterFileError("wrong_headers", missing="、".join(missing))
    return mapping


@dataclass(frozen=True)
class RawRow:
    row: int  # Excel's row number
    cells: dict[str, Any]  # column key → cell value


def _is_example(cells: dict[str, Any], markers: tuple[str, ...]) -> bool:
    name = cells.get("name")
    return isinstance(name, str) and name.strip().startswith(markers)


def iter_data_rows(data: bytes) -> Generator[RawRow]:
    """The data rows of the first sheet, blank rows and the template's example row left out.
    Raises :class:`RosterFileError` for a file that is not a roster."""
    sheet = _open(data)
    try:
        if not sheet.has_sheet:
            raise RosterFileError("no_sheet")
        rows: Iterator[tuple[int, tuple[Any, ...]]] = sheet.rows()
        try:
            number, header = next(rows)
        except StopIteration:
            raise RosterFileError("no_rows") from None
        if number != 1:  # no first row: no header (openpyxl gives an empty row 1)
            rows = itertools.chain([(number, header)], rows)
            header = ()
        mapping = _header_map(header)
        markers = example_markers()
        for number, values in rows:
            cells = {key: values[index] for index, key in mapping.items() if index < len(values)}
            if all(_text(value) == "" for value in cells.values()):
                continue
            if _is_example(cells, markers):
                continue
            yield RawRow(number, cells)
    finally:
        sheet.close()


def check_upload(data: bytes) -> None:
    """Refuse, at once, what cannot be a roster: not an .xlsx, too large, wrong headers, no data
    row. Reads the header and the first data row only; the rest is checked by the import."""
    rows = iter_data_rows(data)
    try:
        next(rows)
    except StopIteration:
        raise RosterFileError("no_rows") from None
    finally:
        rows.close()


@dataclass(frozen=True)
class CleanRow:
    row: int
    name: str
    phone: str
    phone_digest: str
    id_type: str
    id_number: str
    id_digest: str
    birth_date: date | None
    gender: str
    township_id: int
    village_id: int | None
    category_ids: tuple[int, ...]
    skills: tuple[str, ...]
    political_status: str
    occupation: str


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


class Lookups:
    """The reference data a roster is matched against, read once per import: townships and
    villages by name, categories, skills, political statuses and ID types by their names in
    any of the site's languages. A village may be written without its 村/社区 suffix when that
    short name is unique within the township."""

    def __init__(self) -> None:
        self.townships: dict[str, int] = {}
        self.township_names: dict[int, str] = {}
        for pk, name in Place.objects.filter(kind=Place.Kind.TOWNSHIP).values_list("id", "name"):
            self.townships[name] = pk
            self.township_names[pk] = name
        self.villages: dict[int, dict[str, int]] = {}
        short: dict[int, dict[str, list[int]]] = {}
        for pk, name, parent_id in Place.objects.filter(kind=Place.Kind.VILLAGE).values_list("id", "name", "parent_id"):
            self.villages.setdefault(parent_id, {})[name] = pk
            for suffix in _VILLAGE_SUFFIXES:
                if name.endswith(suffix) and len(name) > len(suffix):
                    short.setdefault(parent_id, {}).setdefault(name[: -len(suffix)], []).append(pk)
                    break
        self.short_villages: dict[int, dict[str, list[int]]] = short
        self.categories: dict[str, int] = {}
        for pk, name, name_en in ServiceCategory.objects.filter(is_active=True).values_list("id", "name", "name_en"):
            self.categories[name] = pk
            if name_en:
                self.categories[name_en.casefold()] = pk
        self.skills = _choices_by_label(Skill.choices)
        self.political_statuses = _choices_by_label(PoliticalStatus.choices)
        self.id_types = _choices_by_label(IdType.choices)
        self.genders = _choices_by_label(Gender.choices)

    def village(self, township_id: int, name: str) -> tuple[int | None, str]:
        """(village id, error code or "")."""
        exact = self.villages.get(township_id, {}).get(name)
        if exact is not None:
            return exact, ""
        candidates = self.short_villages.get(township_id, {}).get(name, [])
        if len(candidates) == 1:
            return candidates[0], ""
        return None, "village_ambiguous" if candidates else "village_unknown"


def _choices_by_label(choices: list[tuple[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value, label in choices:
        for text in in_every_language(label):
            found[text.casefold()] = value
    return found


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def _is_plain_mobile(text: str) -> bool:
    """Eleven ASCII digits that are a mobile number as ``validate_mobile`` accepts it."""
    return len(text) == 11 and text.isascii() and text.isdigit() and text[0] == "1" and text[1] in "3456789"


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(_text(value))
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class RowValidator:
    """Validates rows one after another; remembers the IDs and phones of the rows it accepted,
    so a later row repeating one is refused with the earlier row's number."""

    def __init__(self, *, lookups: Lookups, area: Area) -> None:
        self.lookups = lookups
        self.area = area
        self.today = timezone.localdate()
        self.seen_ids: dict[str, int] = {}
        self.seen_phones: dict[str, int] = {}

    def validate(self, raw: RawRow) -> CleanRow | list[RowError]:
        errors: list[RowError] = []
        cells = raw.cells
        row = raw.row

        def error(column: str, code: str, **params: Any) -> None:
            errors.append(RowError(row, column, code, params))

        name = _text(cells.get("name"))
        if not name:
            error("name", "required")
        elif len(name) > NAME_MAX:
            error("name", "too_long", max=NAME_MAX)

        phone = ""
        raw_phone = _text(cells.get("phone"))
        if not raw_phone:
            error("phone", "required")
        elif _is_plain_mobile(raw_phone):
            phone = raw_phone  # what validate_mobile returns, without its normalising work
        else:
            try:
                phone = validate_mobile(raw_phone)
            except ValidationError:
                error("phone", "invalid_phone")

        id_type_text = _text(cells.get("id_type"))
        id_type = self.lookups.id_types.get(id_type_text.casefold(), "") if id_type_text else IdType.RESIDENT_ID
        if id_type_text in ("身份证", "二代身份证"):
            id_type = IdType.RESIDENT_ID
        if not id_type:
            error("id_type", "id_type")

        raw_id = cells.get("id_number")
        id_text = _text(raw_id)
        document = None
        if not id_text:
            error("id_number", "required")
        elif isinstance(raw_id, (int, float)) and id_type != IdType.PASSPORT:
            error("id_number", "id_numeric")
        elif id_type:
            try:
                document = parse_id(id_type, id_text)
            except ValidationError as exc:
                error("id_number", exc.code or "id_length")

        birth_date = document.birth_date if document else None
        gender = (document.gender or "") if document else ""
        if id_type == IdType.PASSPORT:
            raw_birth = cells.get("birth_date")
            if _text(raw_birth) == "":
                error("birth_date", "birth_date_required")
            else:
                birth_date = _parse_date(raw_birth)
                if birth_date is None or birth_date > self.today:
                    error("birth_date", "birth_date_invalid")
                    birth_date = None
            gender_text = _text(cells.get("gender"))
            if gender_text:
                gender = self.lookups.genders.get(gender_text.casefold(), "")
                if not gender:
                    error("gender", "gender_invalid")
        if birth_date is not None and age_on(birth_date, self.today) < ADULT_AGE:
            error("id_number" if id_type != IdType.PASSPORT else "birth_date", "minor")

        township_id: int | None = None
        village_id: int | None = None
        township_name = _text(cells.get("township"))
        if not township_name:
            error("township", "required")
        else:
            township_id = self.lookups.townships.get(township_name)
            if township_id is None:
                error("township", "township_unknown", value=township_name[:50])
        village_name = _text(cells.get("village"))
        if township_id is not None and village_name:
            village_id, code = self.lookups.village(township_id, village_name)
            if code:
                error("village", code, value=village_name[:50], township=township_name)
        place_known = township_id is not None and not (village_name and village_id is None)
        if place_known and not self.area.covers_place(township_id=township_id, village_id=village_id):
            error("village" if village_id else "township", "out_of_area")

        category_ids: list[int] = []
        categories_text = _text(cells.get("categories"))
        if not categories_text:
            error("categories", "required")
        for part in _split(categories_text):
            pk = self.lookups.categories.get(part) or self.lookups.categories.get(part.casefold())
            if pk is None:
                error("categories", "category_unknown", value=part[:40])
            elif not self.area.whole_city and self.area.category_ids is not None and pk not in self.area.category_ids:
                error("categories", "category_out_of_area", value=part[:40])
            elif pk not in category_ids:
                category_ids.append(pk)

        skills: list[str] = []
        for part in _split(_text(cells.get("skills"))):
            skill = self.lookups.skills.get(part.casefold())
            if skill is None:
                error("skills", "skill_unknown", value=part[:40])
            elif skill not in skills:
                skills.append(skill)

        political_text = _text(cells.get("political_status"))
        political_status = ""
        if political_text:
            political_status = self.lookups.political_statuses.get(political_text.casefold(), "")
            if not political_status:
                error("political_status", "political_status_unknown")

        occupation = _text(cells.get("occupation"))
        if len(occupation) > OCCUPATION_MAX:
            error("occupation", "too_long", max=OCCUPATION_MAX)

        if errors:
            return errors
        assert document is not None and township_id is not None
        digest = id_digest(id_type, document.number)
        phone_hash = phone_digest(phone)
        earlier = self.seen_ids.get(digest)
        if earlier is not None:
            return [RowError(row, "id_number", "duplicate_id_in_file", {"row": earlier})]
        earlier = self.seen_phones.get(phone_hash)
        if earlier is not None:
            return [RowError(row, "phone", "duplicate_phone_in_file", {"row": earlier})]
        self.seen_ids[digest] = row
        self.seen_phones[phone_hash] = row
        return CleanRow(
            row=row,
            name=name,
            phone=phone,
            phone_digest=phone_hash,
            id_type=id_type,
            id_number=document.number,
            id_digest=digest,
            birth_date=birth_date,
            gender=gender,
            township_id=township_id,
            village_id=village_id,
            category_ids=tuple(category_ids),
            skills=tuple(skills),
            political_status=political_status,
            occupation=occupation,
        )
