"""The workbooks the roster pages hand out: the blank template, the list of refused rows, and
the export of a roster (IDs and phones masked). Written with openpyxl; texts in the reader's
language."""

from collections.abc import Iterable
from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from apps.core.masking import mask_phone
from apps.organisation.models import ServiceCategory
from apps.volunteers.identity import mask_id
from apps.volunteers.models import IdType, PoliticalStatus, Skill, VolunteerProfile

from .columns import BY_KEY, COLUMNS, EXAMPLE_MARKER
from .messages import row_message
from .models import ImportRowError

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
# Rows of the first sheet that get the drop-down lists (data validation is per range).
_VALIDATED_ROWS = 20000


def _save(workbook: Any) -> bytes:
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _labels(choices: Iterable[tuple[str, Any]]) -> list[str]:
    return [str(label) for _value, label in choices]


def template_workbook(*, categories: list[ServiceCategory], password_url: str) -> bytes:
    """The blank roster: one sheet with the headers (required ones shaded), an example row that
    the import skips, text format for the phone and ID columns (Excel would otherwise turn an
    ID number into a rounded number), drop-down lists for the ID type and political status;
    and a second sheet that explains every column."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("志愿者名册")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=str(column.label))
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if column.required else _HEADER_FILL
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.key in ("phone", "id_number"):
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    example = {
        "name": f"{EXAMPLE_MARKER}张三",
        "phone": "13800000000",
        "id_type": str(IdType.RESIDENT_ID.label),
        "id_number": "11010519491231002X",
        "township": "双塔街道",
        "village": "",
        "categories": "、".join(c.name for c in categories[:2]) or "便民服务",
        "skills": f"{Skill.ELDER_CARE.label}、{Skill.FIRST_AID.label}",
        "political_status": str(PoliticalStatus.MASSES.label),
        "occupation": _("退休教师"),
    }
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=2, column=index, value=example.get(column.key, ""))
        cell.number_format = "@"
        cell.font = Font(italic=True, color="808080")

    keys = [column.key for column in COLUMNS]

    def list_validation(key: str, values: list[str]) -> None:
        formula = '"' + ",".join(values) + '"'
        if len(formula) > 255:  # Excel's limit for an inline list
            return
        letter = get_column_letter(keys.index(key) + 1)
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.error = _("请从下拉列表中选择。")
        validation.add(f"{letter}2:{letter}{_VALIDATED_ROWS}")
        sheet.add_data_validation(validation)

    list_validation("id_type", _labels(IdType.choices))
    list_validation("political_status", _labels(PoliticalStatus.choices))

    guide = workbook.create_sheet(_("填写说明"))
    guide.append([_("列名"), _("是否必填"), _("说明")])
    for cell in guide[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for column in COLUMNS:
        guide.append([str(column.label), _("必填") if column.required else _("选填"), str(column.help)])
    guide.append([])
    guide.append([str(BY_KEY["categories"].label), "", "、".join(c.name for c in categories)])
    guide.append([str(BY_KEY["skills"].label), "", "、".join(_labels(Skill.choices))])
    guide.append([str(BY_KEY["political_status"].label), "", "、".join(_labels(PoliticalStatus.choices))])
    guide.append([])
    notes = [
        _("第2行是示例（姓名以“（示例）”开头），导入时会跳过，可以保留或删除。"),
        _("每行一名志愿者；同一证件号码或手机号在文件中只能出现一次。"),
        _("已在平台注册的志愿者（证件号码相同）会被跳过，不会重复导入。"),
        _("只能导入本单位管理范围内的志愿者；未满18周岁的志愿者请由监护人陪同到实践站登记。"),
        _("导入的志愿者视为已由本单位实名核验。"),
        _("首次登录请用手机验证码设置密码：%(url)s") % {"url": password_url},
    ]
    for note in notes:
        guide.append(["", "", note])
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 10
    guide.column_dimensions["C"].width = 90
    for row in guide.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    return _save(workbook)


def errors_workbook(*, errors: Iterable[ImportRowError]) -> bytes:
    """Each refused cell: the row as Excel numbers it, the column's header, and why."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("错误行"))
    sheet.column_dimensions["A"].width = 8
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 80
    sheet.append([_("行号"), _("列"), _("原因")])
    for error in errors:
        column = BY_KEY.get(error.column)
        sheet.append([error.row, str(column.label) if column else "", row_message(error.code, error.params)])
    return _save(workbook)


def roster_workbook(
    *, volunteers: Iterable[VolunteerProfile], title: str, extra: dict[int, str] | None = None
) -> bytes:
    """A roster with the phone and ID masked (region and last four digits only). ``extra``:
    a last column per volunteer id (a team member's role)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31] or "roster")
    headers = [
        _("志愿者编号"),
        _("姓名"),
        _("性别"),
        _("手机号"),
        _("证件类型"),
        _("证件号码"),
        _("乡镇/街道"),
        _("村/社区"),
        _("服务类别"),
        _("技能"),
        _("政治面貌"),
        _("职业"),
        _("核验单位"),
        _("在岗"),
    ]
    if extra is not None:
        headers.append(_("队内角色"))
    sheet.append(headers)
    skill_labels = dict(Skill.choices)
    for volunteer in volunteers:
        row = [
            volunteer.volunteer_number or "",
            volunteer.user.name,
            volunteer.get_gender_display(),
            mask_phone(volunteer.user.phone),
            volunteer.get_id_type_display(),
            mask_id(volunteer.id_number),
            volunteer.home_township.name,
            volunteer.home_village.name if volunteer.home_village else "",
            "、".join(c.display_name for c in volunteer.categories.all()),
            "、".join(str(skill_labels.get(s, s)) for s in volunteer.skills or []),
            volunteer.get_political_status_display(),
            volunteer.occupation,
            volunteer.verified_by_node.name if volunteer.verified_by_node else "",
            _("是") if volunteer.is_active else _("暂停"),
        ]
        if extra is not None:
            row.append(extra.get(volunteer.id, ""))
        sheet.append(row)
    return _save(workbook)
