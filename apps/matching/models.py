"""The matching queue's own state per request: which waves went out, whether the reach was
widened, whether the request needs a person, and, in team mode, the team it was offered to."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.organisation.models import OrgNode
from apps.service_requests.models import ServiceRequest
from apps.teams.models import Team


class NeedsPerson(models.TextChoices):
    """Why the queue stopped and a person must act (empty: the queue is working)."""

    NO_CANDIDATES = "no_candidates", _("无合适志愿者")
    ESCALATED = "escalated", _("已上报上级")
    TEAM_DECLINED = "team_declined", _("服务队无法承接")


class MatchState(models.Model):
    """One row per request the queue has worked on (auto, broadcast or team mode)."""

    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, primary_key=True, related_name="match", verbose_name=_("工单")
    )
    waves_sent = models.PositiveSmallIntegerField(_("已发轮次"), default=0)
    # Waves sent since the reach was last widened (the W-wave budget restarts once after widening).
    waves_at_this_reach = models.PositiveSmallIntegerField(_("本范围轮次"), default=0)
    widened = models.BooleanField(_("已扩大范围"), default=False)
    next_wave_at = models.DateTimeField(_("下一轮时间"), null=True, blank=True)
    needs_person = models.CharField(_("需人工处理"), max_length=20, choices=NeedsPerson.choices, blank=True)
    escalated_to = models.ForeignKey(
        OrgNode, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("上报至")
    )
    # Broadcast (抢单): when the open task was announced.
    broadcast_at = models.DateTimeField(_("发布抢单时间"), null=True, blank=True)
    # Team mode: the team the request is offered to, and by whom.
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("服务队")
    )
    team_offered_at = models.DateTimeField(_("派给服务队时间"), null=True, blank=True)
    team_offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("匹配状态")
        verbose_name_plural = pgettext_lazy("plural", "匹配状态")
        indexes = [models.Index(fields=["needs_person"], name="match_needs_person")]

    def __str__(self) -> str:
        return f"match {self.request_id}: {self.waves_sent} waves"


class MatchWave(models.Model):
    """One wave of offers sent by the queue. Unique per request and number: two workers can
    never send the same wave twice."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="match_waves", verbose_name=_("工单")
    )
    number = models.PositiveSmallIntegerField(_("轮次"))
    sent_at = models.DateTimeField(_("发出时间"), auto_now_add=True)
    offered = models.PositiveSmallIntegerField(_("邀请人数"))
    radius_extra_km = models.PositiveSmallIntegerField(_("扩大范围（公里）"), default=0)
    due_at = models.DateTimeField(_("答复截止"))

    class Meta:
        verbose_name = _("派单轮次")
        verbose_name_plural = pgettext_lazy("plural", "派单轮次")
        ordering = ["request", "number"]
        constraints = [
            models.UniqueConstraint(fields=["request", "number"], name="match_wave_unique_number"),
        ]

    def __str__(self) -> str:
        return f"wave {self.number} of request {self.request_id}"
