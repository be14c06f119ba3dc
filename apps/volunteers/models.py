from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from encrypted_fields.fields import EncryptedCharField

from apps.organisation.models import OrgNode, Place, ServiceCategory

# Weekly availability is a bit mask: bit ``day * 3 + slot`` (day 0 = Monday … 6 = Sunday; slot
# 0 = morning, 1 = afternoon, 2 = evening), so "free on Saturday afternoon" is one SQL bit test.
DAYS = (_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))
SLOTS = (_("上午"), _("下午"), _("晚上"))
ALL_WEEK = (1 << (len(DAYS) * len(SLOTS))) - 1


def availability_bit(day: int, slot: int) -> int:
    return 1 << (day * len(SLOTS) + slot)


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    RESIDENCE_PERMIT = "residence_permit", _("港澳台居民居住证")
    PASSPORT = "passport", _("护照")


class PoliticalStatus(models.TextChoices):
    CPC_MEMBER = "cpc", _("中共党员")
    CPC_PROBATIONARY = "cpc_probationary", _("中共预备党员")
    CYL_MEMBER = "cyl", _("共青团员")
    DEMOCRATIC_PARTY = "democratic_party", _("民主党派成员")
    MASSES = "masses", _("群众")


class Skill(models.TextChoices):
    ELDER_CARE = "elder_care", _("助老陪护")
    MEDICAL = "medical", _("医疗护理")
    COUNSELLING = "counselling", _("心理疏导")
    LEGAL = "legal", _("法律咨询")
    REPAIR = "repair", _("家电水电维修")
    DRIVING = "driving", _("驾驶")
    HAIRCUT = "haircut", _("理发")
    TUTORING = "tutoring", _("课业辅导")
    PERFORMANCE = "performance", _("文艺表演")
    PHOTOGRAPHY = "photography", _("摄影摄像")
    SIGN_LANGUAGE = "sign_language", _("手语")
    COMPUTER = "computer", _("电脑与手机教学")
    FARMING = "farming", _("农业技术")
    FIRST_AID = "first_aid", _("急救")


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")
    LEFT = "left", _("已退出")


# The allowed moves of ``VolunteerProfile.status``: review decides a pending application, a
# rejected one is fixed and resubmitted, and anyone may leave the platform from any state.
APPLICATION_TRANSITIONS: dict[str, frozenset[str]] = {
    ApplicationStatus.PENDING: frozenset(
        {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED, ApplicationStatus.LEFT}
    ),
    ApplicationStatus.REJECTED: frozenset({ApplicationStatus.PENDING, ApplicationStatus.LEFT}),
    ApplicationStatus.APPROVED: frozenset({ApplicationStatus.LEFT}),
    ApplicationStatus.LEFT: frozenset(),
}


class VolunteerProfile(models.Model):
    """A volunteer's real-name registration (志愿服务条例 Art. 7) and what dispatch needs: who,
    where, what they can do and when. The application is reviewed by the station or office that
    owns the home village; approval gives the platform number (``ZZV…``), the volunteer's public
    identifier. The ID number is encrypted and found by a keyed hash (PIPL Art. 28); phones
    likewise. ``is_active`` is the volunteer's own pause switch: a paused volunteer gets no offers."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="volunteer_profile", verbose_name=_("用户")
    )
    volunteer_number = models.CharField(_("志愿者编号"), max_length=16, unique=True, null=True, blank=True)
    status = models.CharField(
        _("审核状态"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices, blank=True)
    id_number = EncryptedCharField(_("证件号码"), max_length=40, null=True, blank=True)
    # HMAC of type + normalised number: one registration per person, without the number in clear.
    id_digest = models.CharField(_("证件号码摘要"), max_length=64, unique=True, null=True, blank=True, editable=False)
    home_township = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("常住乡镇/街道"),
        limit_choices_to={"kind": Place.Kind.TOWNSHIP},
    )
    home_village = models.ForeignKey(
        Place,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("常住村/社区"),
        limit_choices_to={"kind": Place.Kind.VILLAGE},
    )
    service_radius_km = models.PositiveSmallIntegerField(_("服务半径（公里）"), default=5)
    categories = models.ManyToManyField(ServiceCategory, related_name="volunteers", verbose_name=_("服务类别"))
    skills = models.JSONField(_("技能特长"), default=list, blank=True)
    availability = models.PositiveIntegerField(_("每周可服务时段"), default=ALL_WEEK)
    political_status = models.CharField(_("政治面貌"), max_length=20, choices=PoliticalStatus.choices, blank=True)
    occupation = models.CharField(_("职业"), max_length=50, blank=True)
    emergency_contact_name = models.CharField(_("紧急联系人"), max_length=50, blank=True)
    emergency_contact_phone = EncryptedCharField(_("紧急联系人电话"), max_length=20, null=True, blank=True)
    guardian_name = models.CharField(_("监护人姓名"), max_length=50, blank=True)
    guardian_phone = EncryptedCharField(_("监护人电话"), max_length=20, null=True, blank=True)
    guardian_consent_at = models.DateTimeField(_("监护人同意时间"), null=True, blank=True)
    public_name_consent = models.BooleanField(_("同意公开姓名（光荣榜）"), default=False)
    # The volunteer's own consent (PIPL Art. 13, 志愿服务条例 Art. 20) to let the residents whose
    # requests they hold see and call their phone; without it residents call the station's hotline.
    share_phone_with_residents = models.BooleanField(_("向服务对象显示我的手机号"), default=False)
    # Separate consent to the processing of the ID number and other sensitive data (PIPL Arts 14, 29).
    privacy_consented_at = models.DateTimeField(_("同意处理个人信息时间"), null=True, blank=True)
    rejection_reason = models.CharField(_("未通过原因"), max_length=200, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    # The unit that verified the registration (the reviewing station/office, or the importing unit).
    verified_by_node = models.ForeignKey(
        OrgNode, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("核验单位")
    )
    is_verified = models.BooleanField(_("已实名核验"), default=False)
    is_active = models.BooleanField(_("在岗（未暂停服务）"), default=True)
    left_at = models.DateTimeField(_("退出时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = pgettext_lazy("plural", "志愿者")
        ordering = ["volunteer_number"]
        indexes = [
            models.Index(fields=["home_township", "home_village"], name="volunteer_home_place"),
            models.Index(fields=["status", "submitted_at"], name="volunteer_status"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_number or _('（待审核）')} {self.user.masked_name}"

    @property
    def can_receive_offers(self) -> bool:
        return self.status == ApplicationStatus.APPROVED and self.is_verified and self.is_active and self.user.is_active


# A volunteer's skills and categories as bits, for the matching ranking's one-row tests: skill bit
# = its place in ``Skill`` (add new skills at the end; a reorder needs ``matchable_refresh()``),
# category bit = its id, for ids up to ``MAX_CATEGORY_BIT`` (the ranking asks the category
# table itself for a category beyond that).
MAX_CATEGORY_BIT = 62


def skill_bits(codes: list[str]) -> int:
    known = list(Skill.values)
    return sum({1 << known.index(code) for code in codes if code in known})


def category_bits(category_ids: list[int]) -> int:
    return sum({1 << category_id for category_id in category_ids if 0 < category_id <= MAX_CATEGORY_BIT})


class MatchableVolunteer(models.Model):
    """A volunteer who may be offered work (approved, 实名核验 done, not paused), with the columns
    the matching ranking filters and scores on, in a narrow row of their own: the ranking reads
    one of these per volunteer instead of the wide profile row with its categories and skills.
    Derived from ``VolunteerProfile`` (never edited by hand) by ``matchable.matchable_refresh``,
    called in the same transaction by every service that changes a profile, and for everyone by
    beat (``MATCHABLE_REFRESH_SECONDS``) for what changes elsewhere (a place's coordinates, an
    edit in the admin). A switched-off account is checked live, not copied."""

    volunteer = models.OneToOneField(
        VolunteerProfile, on_delete=models.CASCADE, primary_key=True, related_name="matchable"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    birth_date = models.DateField(null=True)
    availability = models.PositiveIntegerField()
    home_township = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="+", db_index=False)
    home_village = models.ForeignKey(Place, on_delete=models.CASCADE, null=True, related_name="+", db_index=False)
    # The home's point: the village's, else the township's (most villages have none).
    home_latitude = models.FloatField(null=True)
    home_longitude = models.FloatField(null=True)
    service_radius_km = models.PositiveSmallIntegerField()
    skill_bits = models.IntegerField()
    category_bits = models.BigIntegerField()

    class Meta:
        verbose_name = _("可派单志愿者")
        verbose_name_plural = pgettext_lazy("plural", "可派单志愿者")

    def __str__(self) -> str:
        return f"matchable volunteer {self.volunteer_id}"


class VolunteerEvent(models.Model):
    """One step of a volunteer's registration and status, append-only: who did what, when, why."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("提交申请")
        RESUBMITTED = "resubmitted", _("修改后重新提交")
        APPROVED = "approved", _("审核通过")
        REJECTED = "rejected", _("审核未通过")
        UPDATED = "updated", _("修改资料")
        PAUSED = "paused", _("暂停服务")
        RESUMED = "resumed", _("恢复服务")
        LEFT = "left", _("退出平台")
        IMPORTED = "imported", _("名册导入")

    volunteer = models.ForeignKey(
        VolunteerProfile, on_delete=models.CASCADE, related_name="events", verbose_name=_("志愿者")
    )
    kind = models.CharField(_("事件"), max_length=16, choices=Kind.choices)
    from_status = models.CharField(_("原状态"), max_length=16, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=ApplicationStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("志愿者事件")
        verbose_name_plural = pgettext_lazy("plural", "志愿者事件")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class IdReveal(models.Model):
    """Audit of every time a staff member saw a volunteer's full ID number: who, whom, when, why."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("查看人")
    )
    volunteer = models.ForeignKey(
        VolunteerProfile, on_delete=models.PROTECT, related_name="id_reveals", verbose_name=_("志愿者")
    )
    reason = models.CharField(_("查看原因"), max_length=200)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("证件号码查看记录")
        verbose_name_plural = pgettext_lazy("plural", "证件号码查看记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.reason}"
