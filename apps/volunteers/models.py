from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.organisation.models import Place, ServiceCategory


class VolunteerProfile(models.Model):
    """The minimal volunteer record needed to dispatch: who, where, what they can do, and
    whether staff have verified their real-name registration. The platform number is the
    volunteer's public identifier; personal data stays on the user and is masked in views."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="volunteer_profile", verbose_name=_("用户")
    )
    volunteer_number = models.CharField(_("志愿者编号"), max_length=16, unique=True)
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
    categories = models.ManyToManyField(ServiceCategory, related_name="volunteers", verbose_name=_("服务类别"))
    is_verified = models.BooleanField(_("已实名核验"), default=False)
    is_active = models.BooleanField(_("在岗"), default=True)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = pgettext_lazy("plural", "志愿者")
        ordering = ["volunteer_number"]
        indexes = [models.Index(fields=["home_township", "home_village"], name="volunteer_home_place")]

    def __str__(self) -> str:
        return f"{self.volunteer_number} {self.user.masked_name}"

    @property
    def can_receive_offers(self) -> bool:
        return self.is_verified and self.is_active and self.user.is_active
