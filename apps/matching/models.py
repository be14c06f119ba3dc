"""The matching queue's own state per request (which waves went out, whether the reach was
widened, whether the request needs a person, and, in team mode, the team it was offered to), and
per volunteer the counts of their offers the ranking scores from."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.organisation.models import OrgNode
from apps.service_requests.models import ServiceRequest
from apps.teams.models import Team
from apps.volunteers.models import VolunteerProfile


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


class VolunteerHistory(models.Model):
    """What a volunteer's offers say about them, counted over the ranking's windows as of
    ``refreshed_at``: the four history components of the score read these columns instead of
    aggregating every candidate's offers on each ranking. Written by ``history.history_refresh``
    when an offer of theirs moves or a request they served is rated (a job, a second later), and
    for everyone by beat (``MATCHING_HISTORY_REFRESH_SECONDS``) as the windows slide. No row:
    no offers yet, and every component is its prior."""

    volunteer = models.OneToOneField(
        VolunteerProfile,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="match_history",
        verbose_name=_("志愿者"),
    )
    # Over the last MATCHING_HISTORY_DAYS days:
    kept = models.PositiveIntegerField(_("已承接"), default=0)  # accepted and not given back
    taken = models.PositiveIntegerField(_("曾接单"), default=0)  # kept or released
    released = models.PositiveIntegerField(_("无法前往"), default=0)
    answered = models.PositiveIntegerField(_("已答复"), default=0)  # any answer, expiry included
    responses = models.PositiveIntegerField(_("有答复时间"), default=0)
    response_minutes = models.FloatField(_("平均答复分钟"), null=True, blank=True)
    # Over the last MATCHING_FAIRNESS_DAYS days: tasks kept and their hours.
    tasks = models.PositiveIntegerField(_("近期任务"), default=0)
    month_hours = models.FloatField(_("近期时长"), default=0.0)
    # Every rated request they completed.
    ratings = models.PositiveIntegerField(_("评价数"), default=0)
    rating_sum = models.PositiveIntegerField(_("评分合计"), default=0)
    good = models.PositiveIntegerField(_("好评数"), default=0)
    # The four components these counts give (``history.history_components``), each in [0, 1].
    reliability = models.FloatField(_("可靠度"))
    rating = models.FloatField(_("评价得分"))
    fairness = models.FloatField(_("均衡度"))
    response = models.FloatField(_("响应速度"))
    refreshed_at = models.DateTimeField(_("统计时间"))

    class Meta:
        verbose_name = _("志愿者服务记录统计")
        verbose_name_plural = pgettext_lazy("plural", "志愿者服务记录统计")

    def __str__(self) -> str:
        return f"history of volunteer {self.volunteer_id}"
