"""Notifications: one in-app row per recipient written with the change it reports, and for each
e-mail a job of the job queue written in the same transaction, delivered exactly once, retried by
the queue with backoff when the mail server fails."""

import smtplib
from datetime import timedelta

import pytest
from django.core.mail import send_mail as real_send_mail
from django.db import transaction
from django.utils import timezone, translation

from apps.jobs.models import Job, JobState
from apps.jobs.runtime import jobs_run
from apps.notifications import services as notification_services
from apps.notifications.messages import render
from apps.notifications.models import EmailStatus, Kind, Notification
from apps.notifications.services import EMAIL_SEND_TIME_LIMIT, notification_deliver_email, notify
from tests.accounts.factories import make_user

pytestmark = pytest.mark.django_db

PARAMS = {"title": "帮忙修理漏水的水龙头"}


@pytest.fixture
def with_email():
    return make_user(name="王秀兰", email="wangxiulan@example.com")


@pytest.fixture
def without_email():
    return make_user(name="周建国", email="")


def _pending_for(user, *, request_id: int = 42) -> Notification:
    (row,) = notify(recipient_ids=[user.id], kind=Kind.RECEIVED, request_id=request_id, params=PARAMS)
    return row


def _jobs() -> list[tuple[str, int | None, str]]:
    return list(Job.objects.order_by("id").values_list("task", "subject_id", "state"))


# --- notify ----------------------------------------------------------------------------------------


def test_notify_writes_one_row_per_distinct_recipient(with_email, without_email):
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


def test_notify_without_recipients_writes_nothing():
    assert notify(recipient_ids=[], kind=Kind.QUEUED, request_id=7, params=PARAMS) == []
    assert Notification.objects.count() == 0
    assert _jobs() == []


def test_notify_marks_the_email_pending_only_for_users_with_an_address(with_email, without_email):
    notify(recipient_ids=[with_email.id, without_email.id], kind=Kind.QUEUED, request_id=7, params=PARAMS)

    assert dict(Notification.objects.values_list("recipient_id", "email_status")) == {
        with_email.id: EmailStatus.PENDING,
        without_email.id: EmailStatus.NONE,
    }
    assert set(Notification.objects.values_list("email_attempts", flat=True)) == {0}


def test_notify_writes_one_delivery_job_per_email_in_the_callers_transaction_and_publishes_nothing(
    with_email, without_email, django_capture_on_commit_callbacks
):
    other = make_user(name="李建华", email="lijianhua@example.com")
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        notify(recipient_ids=[with_email.id, without_email.id, other.id], kind=Kind.QUEUED, request_id=7, params=PARAMS)

    # Nothing waits for the commit to talk to a broker: the job rows are the outbox.
    assert callbacks == []
    pending = dict(Notification.objects.filter(email_status=EmailStatus.PENDING).values_list("recipient_id", "id"))
    assert _jobs() == [
        ("notifications.deliver_email", pending[with_email.id], "pending"),
        ("notifications.deliver_email", pending[other.id], "pending"),
    ]
    job = Job.objects.first()
    assert job is not None
    assert (job.attempts, job.published_at) == (0, None)
    assert before <= job.run_at <= timezone.now()


def test_notify_in_a_rolled_back_transaction_leaves_neither_notification_nor_job(with_email):
    try:
        with transaction.atomic():
            notify(recipient_ids=[with_email.id], kind=Kind.QUEUED, request_id=7, params=PARAMS)
            raise RuntimeError("the change being reported failed")
    except RuntimeError:
        pass

    assert Notification.objects.count() == 0
    assert _jobs() == []


def test_the_job_of_a_notification_delivers_its_email_through_the_queue(with_email, mailoutbox):
    row = _pending_for(with_email)
    job = Job.objects.get(task="notifications.deliver_email", subject_id=row.id)

    assert jobs_run(job.id, worker="test:1", hard_limit=25) == 1

    assert [m.to for m in mailoutbox] == [["wangxiulan@example.com"]]
    assert Job.objects.get(id=job.id).state == JobState.DONE
    assert Notification.objects.get(id=row.id).email_status == EmailStatus.SENT


# --- delivery ----------------------------------------------------------------------------------------


def test_deliver_email_sends_exactly_one_mail_even_when_called_twice(with_email, mailoutbox):
    row = _pending_for(with_email)
    before = timezone.now()

    assert notification_deliver_email(notification_id=row.id) is True
    assert notification_deliver_email(notification_id=row.id) is False

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["wangxiulan@example.com"]
    assert mail.subject == "[涿州i志愿] 需求已收到"
    assert mail.body == "您的需求#42「帮忙修理漏水的水龙头」已收到，我们会尽快审核。"
    stored = Notification.objects.get(id=row.id)
    assert (stored.email_status, stored.email_attempts) == (EmailStatus.SENT, 1)
    assert stored.email_sent_at is not None
    assert stored.email_sent_at >= before


def test_deliver_email_for_a_user_without_address_sends_nothing(without_email, mailoutbox):
    row = _pending_for(without_email)

    assert notification_deliver_email(notification_id=row.id) is False

    assert mailoutbox == []
    stored = Notification.objects.get(id=row.id)
    assert (stored.email_status, stored.email_attempts) == (EmailStatus.NONE, 0)


def test_deliver_email_of_an_unknown_notification_does_nothing(mailoutbox):
    assert notification_deliver_email(notification_id=987654) is False
    assert mailoutbox == []


def test_a_failed_send_raises_for_the_queue_to_retry_and_the_next_attempt_sends(with_email, monkeypatch, mailoutbox):
    row = _pending_for(with_email)
    outcomes = iter([smtplib.SMTPServerDisconnected("mail server went away"), None])

    def flaky(**kwargs):
        error = next(outcomes)
        if error is not None:
            raise error
        return real_send_mail(**kwargs)

    monkeypatch.setattr(notification_services, "send_mail", flaky)

    with pytest.raises(smtplib.SMTPServerDisconnected):
        notification_deliver_email(notification_id=row.id)
    stored = Notification.objects.get(id=row.id)
    assert (stored.email_status, stored.email_attempts, stored.email_sent_at) == (EmailStatus.FAILED, 1, None)
    assert mailoutbox == []

    assert notification_deliver_email(notification_id=row.id) is True
    stored = Notification.objects.get(id=row.id)
    assert (stored.email_status, stored.email_attempts) == (EmailStatus.SENT, 2)
    assert len(mailoutbox) == 1


def test_a_failed_send_is_not_capped_by_the_notification_the_job_queue_decides(with_email, monkeypatch, mailoutbox):
    row = _pending_for(with_email)

    def down(**kwargs):
        raise smtplib.SMTPConnectError(421, "service not available")

    monkeypatch.setattr(notification_services, "send_mail", down)
    for _ in range(9):
        with pytest.raises(smtplib.SMTPConnectError):
            notification_deliver_email(notification_id=row.id)
    monkeypatch.undo()

    assert notification_deliver_email(notification_id=row.id) is True
    assert Notification.objects.get(id=row.id).email_attempts == 10
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("claimed_seconds_ago", "sent"),
    [(EMAIL_SEND_TIME_LIMIT + 1, True), (EMAIL_SEND_TIME_LIMIT - 5, False)],
    ids=["killed-run-past-the-time-limit", "run-that-may-still-be-sending"],
)
def test_a_row_left_sending_is_sent_again_only_once_its_run_is_surely_dead(
    with_email, mailoutbox, claimed_seconds_ago, sent
):
    assert EMAIL_SEND_TIME_LIMIT == 20
    row = _pending_for(with_email)
    Notification.objects.filter(id=row.id).update(
        email_status=EmailStatus.SENDING,
        email_attempts=1,
        email_claimed_at=timezone.now() - timedelta(seconds=claimed_seconds_ago),
    )

    assert notification_deliver_email(notification_id=row.id) is sent

    stored = Notification.objects.get(id=row.id)
    expected = (EmailStatus.SENT, 2) if sent else (EmailStatus.SENDING, 1)
    assert (stored.email_status, stored.email_attempts) == expected
    assert len(mailoutbox) == (1 if sent else 0)


def test_sent_and_none_rows_are_never_claimed(with_email, without_email, mailoutbox):
    sent = _pending_for(with_email)
    Notification.objects.filter(id=sent.id).update(email_status=EmailStatus.SENT, email_attempts=1)
    none = _pending_for(without_email)

    assert [notification_deliver_email(notification_id=n.id) for n in (sent, none)] == [False, False]
    assert mailoutbox == []


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
        {"applicant": "张*明", "place": "桃园街道太平庄村"},
        "张*明提交了志愿者注册申请（桃园街道太平庄村），等待实名核验。",
    ),
    Kind.APPLICATION_APPROVED: (
        {"number": "ZZV0000007"},
        "您的志愿者注册已通过审核，志愿者编号ZZV0000007。现在可以接收服务邀请了。",
    ),
    Kind.APPLICATION_REJECTED: (
        {"reason": "证件照片不清晰"},
        "您的志愿者注册未通过审核：证件照片不清晰。请修改后重新提交。",
    ),
    Kind.TEAM_JOIN_REQUESTED: (
        {"volunteer": "张*明（ZZV0000001）", "team": "助老服务队"},
        "张*明（ZZV0000001）申请加入「助老服务队」。",
    ),
    Kind.TEAM_JOIN_APPROVED: ({"team": "助老服务队"}, "您已加入「助老服务队」。"),
    Kind.TEAM_JOIN_REJECTED: (
        {"team": "助老服务队", "reason": "名额已满"},
        "您加入「助老服务队」的申请未通过：名额已满",
    ),
    Kind.TEAM_INVITED: ({"team": "助老服务队"}, "「助老服务队」邀请您加入。"),
    Kind.TEAM_INVITE_ANSWERED: (
        {"volunteer": "张*明", "answer": "接受了", "team": "助老服务队"},
        "张*明接受了「助老服务队」的邀请。",
    ),
    Kind.TEAM_MEMBER_REMOVED: (
        {"team": "助老服务队", "reason": "长期未参加活动"},
        "您已被移出「助老服务队」：长期未参加活动",
    ),
    Kind.ROSTER_IMPORTED: (
        {"file": "名册.xlsx", "imported": 970, "errors": 30},
        "名册「名册.xlsx」导入完成：成功970行，错误30行。",
    ),
    Kind.SMS_DEVELOPMENT: ({"phone": "139****0001", "text": "验证码 123456"}, "发往139****0001的短信：验证码 123456"),
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
        (Kind.REJECTED, "很抱歉，您的需求#42「帮忙修理漏水的水龙头」未能受理：超出服务范围"),
        (Kind.OFFERED, "有一项服务邀请#42「帮忙修理漏水的水龙头」等您确认，请在2025-05-01 10:00前答复。"),
        (Kind.ACCEPTED, "志愿者张*明（ZZV0000001）已接单#42「帮忙修理漏水的水龙头」。"),
        (Kind.CANCELLED, "工单#42「帮忙修理漏水的水龙头」已取消：超出服务范围"),
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
