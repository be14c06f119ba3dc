"""Many-row inserts on PostgreSQL for the roster import, without a model instance per row.

``bulk_create`` builds a model instance for every row and prepares every field of every row
through the ORM; for a roster of tens of thousands of people that was most of the import's
time. Here the columns the import sets per row are passed as plain values (the encrypted
fields are encrypted by their field's own Fernet, as the field does it, and JSON is written as
JSON), and every other column gets, once per batch, what the ORM would write for a new instance
of the given template (its defaults, ``auto_now_add``), read from the model's ``_meta`` so that
a field added later with a default is filled in too. The rows go to the server with ``COPY …
FROM STDIN`` (text format), which costs the server half of what a many-row INSERT does."""

import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg2
from django.db import connection
from django.db.models import Field, JSONField, Model
from django.db.models.fields import AutoFieldMixin
from encrypted_fields.fields import EncryptedFieldMixin

NULL = "\\N"
# COPY's text format: a backslash, tab, newline or carriage return inside a value is escaped.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """``value`` as COPY's text format writes it. Raises TypeError for a type it does not know
    (a new kind of column: teach it here rather than store something the ORM would not)."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, int | float | Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"no COPY text for {type(value).__name__}")


def _converter(field: "Field[Any, Any]") -> Callable[[Any], str]:
    """How a per-row value of ``field`` becomes COPY text, as the ORM would store it."""
    if isinstance(field, EncryptedFieldMixin):
        encrypt = field.f.encrypt

        def encrypted(value: Any) -> str:
            # EncryptedFieldMixin.get_prep_value: empty → NULL, else the Fernet token of the text.
            return encrypt(str(value).encode("utf-8")).decode("utf-8") if value else NULL

        return encrypted
    if isinstance(field, JSONField):
        encoder = field.encoder

        def as_json(value: Any) -> str:
            return NULL if value is None else json.dumps(value, cls=encoder).translate(_ESCAPES)

        return as_json
    return copy_text


def supported() -> bool:
    """Whether the default database is PostgreSQL through psycopg2 (else: use ``bulk_create``)."""
    return connection.vendor == "postgresql" and getattr(connection, "Database", None) is psycopg2


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys of ``model`` from its table's sequence, ascending, so that
    rows can be written with their ids (and rows of other tables that point at them) at once."""
    if count == 0:
        return []
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


class RowInserter:
    """Writes rows of ``template``'s model that set ``columns`` (attribute names, e.g.
    ``user_id``) per row; every other concrete column is what the ORM would insert for
    ``template`` (the auto-incremented primary key excepted, unless it is in ``columns``)."""

    def __init__(self, template: Model, columns: Sequence[str]) -> None:
        meta = template._meta
        by_attname = {field.attname: field for field in meta.concrete_fields}
        fields = [by_attname[name] for name in columns]
        self.converters = [_converter(field) for field in fields]
        constant_fields = [
            field
            for field in meta.concrete_fields
            if field.attname not in columns and not (field.primary_key and isinstance(field, AutoFieldMixin))
        ]
        constants = []
        for field in constant_fields:
            value = field.pre_save(template, True)
            if isinstance(field, EncryptedFieldMixin | JSONField):
                constants.append(_converter(field)(value))
            else:
                constants.append(copy_text(field.get_db_prep_save(value, connection)))
        self.suffix = "".join("\t" + text for text in constants) + "\n"
        quote = connection.ops.quote_name
        names = ", ".join(quote(str(field.column)) for field in [*fields, *constant_fields])
        self.sql = f"COPY {quote(meta.db_table)} ({names}) FROM STDIN"

    def insert(self, rows: Iterable[Sequence[Any]]) -> int:
        """Write ``rows`` (values in the order of ``columns``) in one COPY; how many."""
        converters = self.converters
        suffix = self.suffix
        lines = [
            "\t".join([convert(value) for convert, value in zip(converters, row, strict=True)]) + suffix for row in rows
        ]
        if lines:
            with connection.cursor() as cursor, connection.wrap_database_errors:
                cursor.copy_expert(self.sql, io.StringIO("".join(lines)), size=1 << 20)
        return len(lines)
