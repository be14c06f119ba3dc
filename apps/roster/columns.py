"""The columns of a roster workbook, in the template's order.

Headers are written in the language of whoever downloads the template and read in any of the
site's languages, so a workbook made from the English template imports as well. Columns are
found by their header, not by position; columns the platform does not know are ignored."""

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.text import clean_text


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    required: bool  # the header must be present, and the cell filled in
    help: Promise
    width: int = 16


COLUMNS: tuple[Column, ...] = (
    Column("name", _("姓名"), True, _("真实姓名，与证件一致。"), 12),
    Column("phone", _("手机号"), True, _("11位手机号码，志愿者用它登录。"), 15),
    Column(
        "id_type",
        _("证件类型"),
        False,
        _("居民身份证、港澳台居民居住证或护照；不填视为居民身份证。"),
        16,
    ),
    Column(
        "id_number",
        _("证件号码"),
        True,
        _("18位身份证号码（最后一位可为X），请保持文本格式，不要让Excel存成数字。"),
        22,
    ),
    Column("township", _("乡镇/街道"), True, _("常住乡镇或街道的全称，如：双塔街道。"), 14),
    Column(
        "village",
        _("村/社区"),
        False,
        _("常住村或社区的名称，如：东关村（可省略“村”“社区”字样，只要在该乡镇内不重名）。"),
        14,
    ),
    Column("categories", _("服务类别"), True, _("一个或多个服务类别名称，用顿号（、）或逗号分隔。"), 20),
    Column("skills", _("技能"), False, _("可选，技能名称用顿号（、）或逗号分隔。"), 18),
    Column("political_status", _("政治面貌"), False, _("可选。"), 12),
    Column("occupation", _("职业"), False, _("可选，不超过50个字。"), 12),
    Column(
        "birth_date",
        _("出生日期（仅护照）"),
        False,
        _("护照持有人必填，格式如1990-01-31；身份证由号码得出，不用填。"),
        16,
    ),
    Column("gender", _("性别（仅护照）"), False, _("护照持有人可填男或女；身份证由号码得出，不用填。"), 12),
)

BY_KEY = {column.key: column for column in COLUMNS}
REQUIRED_KEYS = tuple(column.key for column in COLUMNS if column.required)

# A row whose name starts with this marker is the template's example and is never imported.
EXAMPLE_MARKER = _("（示例）")


def in_every_language(text: Promise) -> set[str]:
    """``text`` as each of the site's languages says it (what a cell may hold)."""
    found = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.add(clean_text(str(text)))
    return found


def header_keys() -> dict[str, str]:
    """Every accepted header text → column key."""
    return {label: column.key for column in COLUMNS for label in in_every_language(column.label)}


def example_markers() -> tuple[str, ...]:
    return tuple(sorted(in_every_language(EXAMPLE_MARKER)))
