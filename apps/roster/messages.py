"""Why a roster row (or a whole upload) was refused: message keys and their wording.

Errors are stored as a key and parameters and translated for whoever reads them. Parameters
never hold a phone or an ID number: the row number and the column say where to look."""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ROW_MESSAGES: dict[str, Promise] = {
    "required": _("必填，不能为空。"),
    "too_long": _("不能超过%(max)s个字。"),
    "invalid_phone": _("请输入11位手机号码。"),
    "id_type": _("证件类型应为居民身份证、港澳台居民居住证或护照。"),
    "id_numeric": _("证件号码被Excel存成了数字，末几位可能已丢失；请把该列设为文本格式后重新填写。"),
    # The same wording as apps.volunteers.identity.parse_id, by its codes.
    "id_length": _("证件号码应为18位，最后一位可以是数字或X。"),
    "id_permit_prefix": _("证件号码与证件类型不符（港澳台居民居住证号码以810000、820000或830000开头）。"),
    "id_birth_date": _("证件号码中的出生日期不正确，请核对。"),
    "id_checksum": _("证件号码校验位不正确，请核对是否输错。"),
    "id_passport": _("护照号码应为5至20位字母或数字。"),
    "minor": _("未成年人请由监护人陪同到实践站登记"),
    "birth_date_required": _("护照持有人请填写出生日期，如1990-01-31。"),
    "birth_date_invalid": _("出生日期应写成1990-01-31这样的格式，且不能晚于今天。"),
    "gender_invalid": _("性别请填写男或女。"),
    "township_unknown": _("没有名为「%(value)s」的乡镇/街道。"),
    "village_unknown": _("%(township)s没有名为「%(value)s」的村/社区。"),
    "village_ambiguous": _("%(township)s有多个村/社区叫「%(value)s」，请写全称。"),
    "category_unknown": _("没有名为「%(value)s」的服务类别。"),
    "skill_unknown": _("没有名为「%(value)s」的技能，请按“填写说明”页填写。"),
    "political_status_unknown": _("政治面貌请填写：中共党员、中共预备党员、共青团员、民主党派成员或群众。"),
    "out_of_area": _("该地点不在本单位的管理范围内。"),
    "category_out_of_area": _("服务类别「%(value)s」不在本单位的管理范围内。"),
    "duplicate_id_in_file": _("与第%(row)s行的证件号码重复。"),
    "duplicate_phone_in_file": _("与第%(row)s行的手机号重复。"),
    "phone_taken": _("该手机号已属于另一名证件号码不同的志愿者，请核对。"),
}

# Refusals of a whole upload, at the upload or (for the limits) when the import starts.
FILE_MESSAGES: dict[str, Promise] = {
    "empty": _("上传的文件是空的。"),
    "too_large": _("文件太大：不能超过%(max_mb)s MB。"),
    "not_xlsx": _("请上传Excel的.xlsx文件（.xls或.csv请先在Excel中另存为.xlsx）。"),
    "unreadable": _("无法读取这个Excel文件，它可能已损坏。请在Excel中打开后重新保存再上传。"),
    "no_sheet": _("文件中没有工作表。"),
    "wrong_headers": _("第1行的列名不对，缺少：%(missing)s。请使用下载的模板。"),
    "duplicate_headers": _("第1行有重复的列名：%(duplicates)s。"),
    "no_rows": _("名册中没有数据行。"),
    "too_many_rows": _("一次最多导入%(max)s行，这个文件有%(rows)s行，请分成几个文件。"),
    "crashed": _("导入多次中断，已停止。请联系管理员。"),
}


def row_message(code: str, params: dict[str, Any]) -> str:
    template = ROW_MESSAGES.get(code)
    if template is None:
        return code
    return str(template) % params if params else str(template)


def file_message(code: str, params: dict[str, Any] | None = None) -> str:
    template = FILE_MESSAGES.get(code)
    if template is None:
        return code
    return str(template) % params if params else str(template)
