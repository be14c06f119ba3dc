"""Notifications: one in-app row per recipient written with the change it reports, and an e-mail
outbox delivered after commit, exactly once, retried a bounded number of times and swept up by beat."""

import logging
import smtplib
from datetime import timedelta

import pytest
from django.core.mail import send_mail as real_send_mail
from django.db import transaction
from django.utils import timezone, translation

from apps.notifications import services as notification_services
from apps.notifications.messages import render
from apps.notifications.models import EmailStatus, Kind, Notification
from apps.notifications.services import (
    MAX_EMAIL_ATTEMPTS,
    notification_deliver_email,
    notifications_redeliver_pending,
    notify,
)
from apps.notifications.tasks import deliver_email
from tests.accounts.factories import make_user

pytestmark = pytest.mark.django_db

PARAMS = {"title": "帮忙修理漏水的水龙头"}


@pytest.fixture
def published(monkeypatch) -> list[tuple]:
    """Every publish of the deliver_email task, instead of sending it to a broker."""
    calls: list[tuple] = []

    def record(args=None, **kwargs):
        calls.append(tuple(args or ()))

    monkeypatch.setattr(deliver_email, "apply_async", record)
    return calls


@pytest.fixture
def with_email():
    return make_user(name="王秀兰", email="wangxiulan@example.com")


@pytest.fixture
def without_email():
    return make_user(name="周建国", email="")


def _pending_for(user, *, request_id: int = 42) -> Notification:
    (row,) = notify(recipient_ids=[user.id], kind=Kind.RECEIVED, request_id=request_id, params=PARAMS)
    return row


# --- notify ----------------------------------------------------------------------------------------


def test_notify_writes_one_row_per_distinct_recipient(with_email, without_email, published):
    rows = notify(
        recipient_ids=[without_email.id, with_email.id, without_email.id, with_email.id],
        kind=Kind.QUEUED,
        request_id=7,
        params=PARAMS,
    )

    assert len(rows) == 2
    assert sorted(
        Notification.objects.values_list("recipient_id", "kind", "request_id", "params", "read_at")
    ) == sorted(
        [
            (with_email.id, "queued", 7, PARAMS, None),
            (without_email.id, "queued", 7, PARAMS, None),
        ]
    )


def test_notify_without_recipients_writes_nothing(published):
    assert notify(recipient_ids=[], kind=Kind.QUEUED, request_id=7, params=PARAMS) == []
    assert Notification.objects.count() == 0


def test_notify_marks_the_email_pending_only_for_users_with_an_address(with_email, without_email, published):
    notify(recipient_ids=[with_email.id, without_email.id], kind=Kind.QUEUED, request_id=7, params=PARAMS)

    assert dict(Notification.objects.values_list("recipient_id", "email_status")) == {
        with_email.id: EmailStatus.PENDING,
        without_email.id: EmailStatus.NONE,
    }
    assert set(Notification.objects.values_list("email_attempts", flat=True)) == {0}


def test_notify_enqueues_the_email_only_after_commit(
    with_email, without_email, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(recipient_ids=[with_email.id, without_email.id], kind=Kind.QUEUED, request_id=7, params=PARAMS)
        assert published == []

    pending = Notification.objects.get(recipient=with_email)
    assert len(callbacks) == 1
    assert published == [(pending.id,)]


def test_notify_in_a_rolled_back_transaction_enqueues_nothing(
    with_email, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                notify(recipient_ids=[with_email.id], kind=Kind.QUEUED, request_id=7, params=PARAMS)
                raise RuntimeError("the change being reported failed")
        except RuntimeError:
            pass

    assert callbacks == []
    assert published == []
    assert Notification.objects.count() == 0


def test_notify_when_the_broker_is_down_keeps_the_row_for_the_sweep(
    with_email, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(deliver_email, "apply_async", broker_down)

    with (
        caplog.at_level(logging.WARNING, logger="apps.core.tasks_util"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify(recipient_ids=[with_email.id], kind=Kind.QUEUED, request_id=7, params=PARAMS)

    assert Notification.objects.get(recipient=with_email).email_status == EmailStatus.PENDING
    assert [r.levelname for r in caplog.records if r.name == "apps.core.tasks_util"] == ["WARNING"]


# --- delivery ----------------------------------------------------------------------------------------


def test_deliver_email_sends_exactly_one_mail_even_when_called_twice(with_email, published, mailoutbox):
    row = _pending_for(with_email)
    before = timezone.now()

    assert notification_deliver_email(notification_id=row.id) is True
    assert notification_deliver_email(notification_id=row.id) is False

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["wangxiulan@example.com"]
    assert mail.subject == "[涿州i志愿] 需求已收到"
    assert mail.body == "您的需求 #42「帮忙修理漏水的水龙头」已收到，我们会尽快审核。"
    stored = Notification.objects.get(id=row.id)
    assert (stored.email_status, stored.email_attempts) == (EmailStatus.SENT, 1)
    assert stored.email_sent_at is not None
    assert stored.email_sent_at >= before


def test_deliver_email_for_a_user_without_address_sends_nothing(without_email, published, mailoutbox):
    row = _pending_for(without_email)

    assert notification_deliver_email(notification_id=row.id) is False

    assert mailoutbox == []
    stored = Notification.objects.get(id=row.id)
    assert (stored.email_status, stored.email_attempts) == (EmailStatus.NONE, 0)


def test_deliver_email_of_an_unknown_notification_does_nothing(mailoutbox):
    assert notification_deliver_email(notification_id=987654) is False
    assert mailoutbox == []


@pytest.fixture
def failing_mail(monkeypatch) -> list[str]:
    attempts: list[str] = []

    def send_mail(**kwargs):
        attempts.append(kwargs["recipient_list"][0])
        raise smtplib.SMTPServerDisconnected("mail server went away")

    monkeypatch.setattr(notification_services, "send_mail", send_mail)
    return attempts


def test_failed_send_is_retried_up_to_the_attempt_limit_and_then_left_failed(
    with_email, published, failing_mail, monkeypatch, mailoutbox
):
    row = _pending_for(with_email)

    results = [notification_deliver_email(notification_id=row.id) for _ in range(MAX_EMAIL_ATTEMPTS + 2)]

    assert MAX_EMAIL_ATTEMPTS == 5
    assert results == [False] * 7
    assert failing_mail == ["wangxiulan@example.com"] * 5
    stored = Notification.objects.get(id=row.id)
    assert (stored.email_status, stored.email_attempts, stored.email_sent_at) == (EmailStatus.FAILED, 5, None)
    # Even once the mail server is back, an exhausted row is not sent again.
    monkeypatch.undo()
    assert notification_deliver_email(notification_id=row.id) is False
    assert mailoutbox == []


def test_failed_send_succeeds_on_the_next_attempt(with_email, published, monkeypatch, mailoutbox):
    row = _pending_for(with_email)
    outcomes = iter([smtplib.SMTPServerDisconnected("mail server went away"), None])

    def flaky(**kwargs):
        error = next(outcomes)
        if error is not None:
            raise error
        return real_send_mail(**kwargs)

    monkeypatch.setattr(notification_services, "send_mail", flaky)

    assert notification_deliver_email(notification_id=row.id) is False
    assert Notification.objects.get(id=row.id).email_status == EmailStatus.FAILED
    assert notification_deliver_email(notification_id=row.id) is True

    stored = Notification.objects.get(id=row.id)
    assert (stored.email_status, stored.email_attempts) == (EmailStatus.SENT, 2)
    assert len(mailoutbox) == 1


# --- the beat sweep ------------------------------------------------------------------------------------


def test_redeliver_pending_reenqueues_only_old_pending_failed_and_stuck_rows(
    with_email, published, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_REDELIVER_AFTER_SECONDS = 120
    now = timezone.now()

    def row(
        status: str, *, age_seconds: int, attempts: int = 0, claimed_seconds_ago: int | None = None
    ) -> Notification:
        notification = _pending_for(with_email)
        claimed_at = None if claimed_seconds_ago is None else now - timedelta(seconds=claimed_seconds_ago)
        Notification.objects.filter(id=notification.id).update(
            email_status=status,
            email_attempts=attempts,
            created_at=now - timedelta(seconds=age_seconds),
            email_claimed_at=claimed_at,
        )
        return notification

    old_pending = row(EmailStatus.PENDING, age_seconds=121)
    old_failed = row(EmailStatus.FAILED, age_seconds=3600, attempts=2)
    stuck_sending = row(EmailStatus.SENDING, age_seconds=3600, attempts=1, claimed_seconds_ago=3600)
    # An old notification whose send a live worker claimed a moment ago is left alone.
    sending_now = row(EmailStatus.SENDING, age_seconds=3600, attempts=2, claimed_seconds_ago=5)
    new_pending = row(EmailStatus.PENDING, age_seconds=60)
    new_failed = row(EmailStatus.FAILED, age_seconds=60, attempts=1)
    old_sent = row(EmailStatus.SENT, age_seconds=3600, attempts=1)
    old_none = row(EmailStatus.NONE, age_seconds=3600)
    exhausted = row(EmailStatus.FAILED, age_seconds=3600, attempts=MAX_EMAIL_ATTEMPTS)
    published.clear()  # the rows' own enqueues never ran: the test transaction does not commit

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_redeliver_pending() == 3
        assert published == []

    assert sorted(published) == sorted([(old_pending.id,), (old_failed.id,), (stuck_sending.id,)])
    statuses = dict(Notification.objects.values_list("id", "email_status"))
    assert statuses == {
        old_pending.id: EmailStatus.PENDING,
        old_failed.id: EmailStatus.FAILED,
        stuck_sending.id: EmailStatus.FAILED,
        sending_now.id: EmailStatus.SENDING,
        new_pending.id: EmailStatus.PENDING,
        new_failed.id: EmailStatus.FAILED,
        old_sent.id: EmailStatus.SENT,
        old_none.id: EmailStatus.NONE,
        exhausted.id: EmailStatus.FAILED,
    }


def test_redeliver_pending_with_nothing_to_do_enqueues_nothing(
    with_email, published, django_capture_on_commit_callbacks
):
    _pending_for(with_email)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notifications_redeliver_pending() == 0

    assert callbacks == []
    assert published == []


# --- wording -------------------------------------------------------------------------------------------

FULL_PARAMS = {
    "title": "帮忙修理漏水的水龙头",
    "reason": "超出服务范围",
    "volunteer": "张*明（ZZV0000001）",
    "expires": "2025-05-01 10:00",
}


# Kinds about people joining the platform, not about a request: their parameters and one exact body.
JOINING = {
    Kind.APPLICATION_SUBMITTED: (
        {"applicant": "张*明", "place": "桃园街道 太平庄村"},
        "张*明 提交了志愿者注册申请（桃园街道 太平庄村），等待实名核验。",
    ),
    Kind.APPLICATION_APPROVED: (
        {"number": "ZZV0000007"},
        "您的志愿者注册已通过审核，志愿者编号 ZZV0000007。现在可以接收服务邀请了。",
    ),
    Kind.APPLICATION_REJECTED: (
        {"reason": "证件照片不清晰"},
        "您的志愿者注册未通过审核：证件照片不清晰。请修改后重新提交。",
    ),
    Kind.TEAM_JOIN_REQUESTED: (
        {"volunteer": "张*明（ZZV0000001）", "team": "助老服务队"},
        "张*明（ZZV0000001） 申请加入「助老服务队」。",
    ),
    Kind.TEAM_JOIN_APPROVED: ({"team": "助老服务队"}, "您已加入「助老服务队」。"),
    Kind.TEAM_JOIN_REJECTED: (
        {"team": "助老服务队", "reason": "名额已满"},
        "您加入「助老服务队」的申请未通过：名额已满",
    ),
    Kind.TEAM_INVITED: ({"team": "助老服务队"}, "「助老服务队」邀请您加入。"),
    Kind.TEAM_INVITE_ANSWERED: (
        {"volunteer": "张*明", "answer": "接受了", "team": "助老服务队"},
        "张*明 接受了「助老服务队」的邀请。",
    ),
    Kind.TEAM_MEMBER_REMOVED: (
        {"team": "助老服务队", "reason": "长期未参加活动"},
        "您已被移出「助老服务队」：长期未参加活动",
    ),
    Kind.ROSTER_IMPORTED: (
        {"file": "名册.xlsx", "imported": 970, "errors": 30},
        "名册「名册.xlsx」导入完成：成功 970 行，错误 30 行。",
    ),
    Kind.SMS_DEVELOPMENT: ({"phone": "139****0001", "text": "验证码 123456"}, "发往 139****0001 的短信：验证码 123456"),
}


def test_a_stored_answer_is_shown_in_the_readers_language() -> None:
    params = {"volunteer": "张*明", "answer": "婉拒了", "team": "助老服务队"}
    with translation.override("en"):
        _title, body = render(Kind.TEAM_INVITE_ANSWERED, params, None)
    assert "declined" in body and "婉拒了" not in body


@pytest.mark.parametrize(("kind", "params", "body"), [(kind, *case) for kind, case in JOINING.items()])
def test_joining_kinds_render_their_parameters(kind, params, body) -> None:
    with translation.override("zh-hans"):
        assert render(kind, params, None) == (str(Kind(kind).label), body)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("kind", sorted(set(Kind.values) - set(JOINING)))
@pytest.mark.parametrize("params", [FULL_PARAMS, {}], ids=["full", "empty"])
def test_every_kind_renders_in_both_languages_without_missing_values(language, kind, params) -> None:
    with translation.override(language):
        title, body = render(kind, params, 42)
        expected_title = str(Kind(kind).label)

    assert title == expected_title
    assert title != ""
    assert "#42" in body
    assert "%(" not in body
    if params:
        assert FULL_PARAMS["title"] in body


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (Kind.REJECTED, "很抱歉，您的需求 #42「帮忙修理漏水的水龙头」未能受理：超出服务范围"),
        (Kind.OFFERED, "有一项服务邀请 #42「帮忙修理漏水的水龙头」等您确认，请在 2025-05-01 10:00 前答复。"),
        (Kind.ACCEPTED, "志愿者 张*明（ZZV0000001） 已接单 #42「帮忙修理漏水的水龙头」。"),
        (Kind.CANCELLED, "工单 #42「帮忙修理漏水的水龙头」已取消：超出服务范围"),
    ],
)
def test_messages_in_chinese_carry_their_parameters(kind, body) -> None:
    with translation.override("zh-hans"):
        assert render(kind, FULL_PARAMS, 42) == (str(Kind(kind).label), body)


def test_message_without_a_request_has_no_reference() -> None:
    with translation.override("zh-hans"):
        title, body = render(Kind.COMPLETED, {"title": "义诊"}, None)

    assert title == "服务已完成"
    assert "#" not in body
    assert "「义诊」已完成服务。" in body
