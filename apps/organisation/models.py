from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from .hotlines import validate_hotline


# treebeard ships no type hints, so the django-stubs plugin cannot resolve OrgNode's manager
# (MP_NodeManager) and with it the reverse manager ``Place.org_nodes``.
class Place(models.Model):  # type: ignore[django-manager-missing]
    """An administrative division: the city, a township (乡镇/街道) or a village/community."""

    class Kind(models.TextChoices):
        CITY = "city", _("市")
        TOWNSHIP = "township", _("乡镇/街道")
        VILLAGE = "village", _("村/社区")

    # Statistical division code for the city and townships; villages have none in our data.
    code = models.CharField(_("区划代码"), max_length=12, unique=True, null=True, blank=True)
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    # Rough coordinates; operators replace them from the admin or by re-importing the CSV.
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    coordinates_are_estimate = models.BooleanField(_("坐标为估计值"), default=True)

    class Meta:
        verbose_name = _("地区")
        verbose_name_plural = pgettext_lazy("plural", "地区")
        ordering = ["kind", "code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="place_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class OrgNode(MP_Node):
    """The practice network as one tree: centre → office and sub-centres, and centre →
    township office (实践所) → village station (实践站). The materialised ``path`` makes
    "everything under this node" a single indexed prefix query."""

    class Kind(models.TextChoices):
        CENTRE = "centre", _("新时代文明实践中心")
        CENTRE_OFFICE = "centre_office", _("中心办公室")
        SUB_CENTRE = "sub_centre", _("分中心")
        TOWNSHIP_OFFICE = "township_office", _("实践所")
        VILLAGE_STATION = "village_station", _("实践站")

    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    place = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, related_name="org_nodes", verbose_name=_("所在地区")
    )
    # Blank: the node answers on its parent's line (a village station on its township office's,
    # that on the centre's); see ``selectors.hotline_for``.
    hotline = models.CharField(
        _("服务热线"),
        max_length=20,
        blank=True,
        validators=[validate_hotline],
        help_text=_("群众有疑问时拨打的电话：手机号，或带区号的固定电话。不填则使用上级阵地的热线。"),
    )

    node_order_by = ["name"]

    class Meta:
        verbose_name = _("实践阵地")
        verbose_name_plural = pgettext_lazy("plural", "实践阵地")
        indexes = [
            # LIKE 'prefix%' on PostgreSQL can only use a btree with pattern ops (or C collation).
            models.Index(fields=["path"], name="orgnode_path_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["place"],
                condition=models.Q(kind="village_station"),
                name="orgnode_one_station_per_village",
            ),
            models.UniqueConstraint(
                fields=["place"],
                condition=models.Q(kind="township_office"),
                name="orgnode_one_office_per_township",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DispatchMode(models.TextChoices):
    """How a queued request finds its volunteers (MISSION.md § The matching queue)."""

    DIRECTED = "directed", _("定向派单")
    AUTO = "auto", _("自动派单")
    BROADCAST = "broadcast", _("抢单")
    TEAM = "team", _("服务队派单")


class ServiceCategory(models.Model):
    """A field of service (便民服务, 环境治理 …). Editable by administrators."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    auto_accept = models.BooleanField(
        _("自动受理"), default=False, help_text=_("提交后直接进入派单队列，无需人工审核。")
    )
    # The functional sub-centre (理论宣讲, 健康推进 …) that looks after this field city-wide;
    # fields no sub-centre owns are the centre's and the local offices' alone.
    sub_centre = models.ForeignKey(
        OrgNode,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="categories",
        limit_choices_to={"kind": "sub_centre"},
        verbose_name=_("主管分中心"),
    )
    default_dispatch_mode = models.CharField(
        _("默认派单方式"), max_length=10, choices=DispatchMode.choices, default=DispatchMode.DIRECTED
    )
    # Who may serve (志愿服务条例 Art. 15, age fit): a minimum age for any task of this field,
    # and a higher one for tasks wanted in the evening (e.g. no minors on night visits).
    min_age = models.PositiveSmallIntegerField(_("最低年龄"), default=14)
    night_min_age = models.PositiveSmallIntegerField(_("夜间服务最低年龄"), default=18)
    # Skills (apps.volunteers.models.Skill codes) that qualify a volunteer who does not list the field.
    skills = models.JSONField(_("相关技能"), default=list, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("服务类别")
        verbose_name_plural = pgettext_lazy("plural", "服务类别")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name
