"""The demo has something to review and something to import: two sign-ups (one waiting, one sent
back with its reason) and a sample roster whose two wrong rows show the error workbook; six weeks
of past work; and work in hand today, an invitation open and a volunteer on the way."""

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.accounts.phones import phone_digest
from apps.demo.services import DEMO_OFFER_TITLE, DEMO_TASK_TITLE, seed_demo, write_sample_roster
from apps.organisation.models import Place
from apps.roster.models import ImportRowError
from apps.roster.services import import_job_create, roster_import_run
from apps.volunteers.models import ApplicationStatus, VolunteerProfile


@pytest.fixture
def places(db) -> None:
    call_command("load_places", verbosity=0)
    call_command("load_teams", verbosity=0)


def _application(phone: str) -> VolunteerProfile:
    return VolunteerProfile.objects.select_related("user").get(user__phone_digest=phone_digest(phone))


def test_the_demo_has_one_application_waiting_and_one_sent_back_and_seeding_twice_adds_nothing(places) -> None:
    seed_demo()
    seed_demo()

    waiting, sent_back = _application("13800000001"), _application("13800000002")
    assert (waiting.user.name, waiting.status, waiting.volunteer_number, waiting.home_village) == (
        "孙丽娟",
        ApplicationStatus.PENDING,
        None,
        Place.objects.get(name="太平庄村"),
    )
    assert (sent_back.status, sent_back.rejection_reason, sent_back.home_village) == (
        ApplicationStatus.REJECTED,
        "证件号码与姓名不一致，请核对后重新提交",
        Place.objects.get(name="东庄头村"),
    )
    assert VolunteerProfile.objects.filter(status=ApplicationStatus.PENDING).count() == 1


def test_the_sample_roster_imports_ten_and_reports_its_two_wrong_rows(places, tmp_path) -> None:
    seed_demo()
    office = User.objects.get(phone_digest=phone_digest("13600000001"))
    data = write_sample_roster(tmp_path / "sample_roster.xlsx").read_bytes()
    job = import_job_create(uploader=office, file_name="sample_roster.xlsx", data=data)

    assert roster_import_run(job_id=job.id) == "done: 10 imported, 0 already registered, 2 errors"
    assert list(ImportRowError.objects.filter(job=job).order_by("row").values_list("row", "code")) == [
        (6, "id_checksum"),
        (11, "village_unknown"),
    ]


def test_the_demo_has_six_weeks_of_work_for_the_dashboard_and_seeding_twice_adds_nothing(places) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.dashboard.models import RequestFact
    from apps.service_requests.models import ServiceRequest, Status

    seed_demo()
    seed_demo()
    resident = User.objects.get(phone_digest=phone_digest("13900000003"))
    requests = ServiceRequest.objects.filter(requester=resident).exclude(title__in=[DEMO_OFFER_TITLE, DEMO_TASK_TITLE])
    assert requests.count() == 48
    facts = RequestFact.objects.filter(request_id__in=requests.values("id"))
    assert facts.count() == 48
    oldest = facts.order_by("created_at").first()
    assert oldest is not None and timezone.now() - oldest.created_at > timedelta(days=41)
    completed = facts.filter(completed_at__isnull=False)
    assert completed.count() == facts.filter(status__in=[Status.COMPLETED, Status.CLOSED]).count() > 30
    for fact in completed:
        steps = [s for s in (fact.review_seconds, fact.offer_seconds, fact.accept_seconds, fact.complete_seconds) if s]
        assert len(steps) == 4 and steps == sorted(set(steps)), fact.request_id
        assert fact.hours > 0
    assert facts.filter(status=Status.REJECTED).exists() and facts.filter(status=Status.CANCELLED).exists()
    assert facts.filter(score__lte=2).exists()  # a low rating, and so a follow-up case to show


def test_a_volunteer_of_the_demo_finds_an_invitation_and_a_resident_a_volunteer_on_the_way(places) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.dispatch.models import Offer

    seed_demo()
    seed_demo()
    resident = User.objects.get(phone_digest=phone_digest("13900000003"))
    (invitation,) = Offer.objects.filter(request__requester=resident, request__title=DEMO_OFFER_TITLE)
    assert (invitation.volunteer.user.name, invitation.status, invitation.request.status) == (
        "张小明",
        "offered",
        "offered",
    )
    assert invitation.expires_at - timezone.now() > timedelta(hours=23)
    start = invitation.request.window_start
    assert start is not None
    assert (timezone.localtime(start).date(), timezone.localtime(start).hour) == (
        timezone.localdate() + timedelta(days=1),
        9,
    )
    (task,) = Offer.objects.filter(request__requester=resident, request__title=DEMO_TASK_TITLE)
    assert (task.volunteer.user.name, task.status, task.eta_minutes, task.request.status) == (
        "陈志强",
        "on_the_way",
        20,
        "accepted",
    )
