"""What the matching ranking reads of a volunteer (``MatchableVolunteer``) follows their profile:
written by every service that changes one, in the same transaction, and by the full refresh
for changes made elsewhere."""

from decimal import Decimal

import pytest

from apps.volunteers.matchable import matchable_refresh
from apps.volunteers.models import (
    MAX_CATEGORY_BIT,
    MatchableVolunteer,
    Skill,
    VolunteerProfile,
    category_bits,
    skill_bits,
)
from apps.volunteers.services import (
    ProfileInput,
    application_approve,
    application_reject,
    volunteer_leave,
    volunteer_pause,
    volunteer_resume,
    volunteer_update,
)
from tests.organisation.factories import ServiceCategoryFactory
from tests.volunteers.world import build_applications


def _row(profile: VolunteerProfile) -> MatchableVolunteer | None:
    return MatchableVolunteer.objects.filter(volunteer_id=profile.id).first()


def _get(profile: VolunteerProfile) -> MatchableVolunteer:
    return MatchableVolunteer.objects.get(volunteer_id=profile.id)


def test_bits_follow_the_skill_list_and_the_category_ids():
    assert skill_bits([]) == 0
    assert skill_bits([Skill.ELDER_CARE, "unknown", Skill.FIRST_AID, Skill.ELDER_CARE]) == 1 | 1 << 13
    assert category_bits([1, 8, 8]) == 2 | 256
    assert category_bits([MAX_CATEGORY_BIT]) == 1 << 62
    # Beyond the bits: left out, and the ranking asks the category table itself.
    assert category_bits([MAX_CATEGORY_BIT + 1]) == 0


def test_a_registered_volunteer_has_a_row_with_their_home_point(cast, org):
    org["village_a1"].latitude, org["village_a1"].longitude = Decimal("39.470000"), Decimal("115.950000")
    org["village_a1"].save(update_fields=["latitude", "longitude"])
    matchable_refresh(volunteer_ids=[cast.volunteer.id])

    row = _row(cast.volunteer)
    assert row is not None
    assert (row.user_id, row.home_township_id, row.home_village_id) == (
        cast.volunteer.user_id,
        org["township_a"].id,
        org["village_a1"].id,
    )
    assert (row.home_latitude, row.home_longitude) == (39.47, 115.95)
    # The test categories' ids run past the bits on PostgreSQL (sequences outlive rolled-back
    # tests): the row holds a bit only for an id up to MAX_CATEGORY_BIT.
    assert row.category_bits == category_bits([org["category"].id])
    low = ServiceCategoryFactory(id=5, code="low", name="五号类", name_en="Five")
    cast.volunteer.categories.add(low)
    matchable_refresh(volunteer_ids=[cast.volunteer.id])
    assert _get(cast.volunteer).category_bits == (1 << 5) | category_bits([org["category"].id])
    assert (row.skill_bits, row.availability, row.service_radius_km) == (0, cast.volunteer.availability, 5)
    # The other volunteer's village has no point and neither has its township.
    other = _get(cast.other_volunteer)
    assert (other.home_latitude, other.home_longitude) == (None, None)


def test_review_pause_resume_and_leave_move_the_row(cast, org):
    apps_ = build_applications(org)
    assert _row(apps_.profile) is None  # waiting for review
    application_reject(profile=apps_.other_profile, actor=cast.staff_b, reason="证件照片不清晰")
    assert _row(apps_.other_profile) is None

    application_approve(profile=apps_.profile, actor=cast.station_staff_a1)
    row = _row(apps_.profile)
    assert row is not None
    assert row.skill_bits == skill_bits([Skill.ELDER_CARE])

    volunteer_pause(profile=apps_.profile, actor=apps_.applicant)
    assert _row(apps_.profile) is None
    volunteer_resume(profile=apps_.profile, actor=apps_.applicant)
    assert _row(apps_.profile) is not None
    volunteer_leave(profile=apps_.profile, actor=apps_.applicant)
    assert _row(apps_.profile) is None


def test_an_edit_of_the_profile_rewrites_the_row(cast, org):
    volunteer_update(
        profile=cast.volunteer,
        actor=cast.volunteer.user,
        data=ProfileInput(
            village=org["village_b1"],
            categories=[org["category"], org["other_category"]],
            availability=0b111,
            service_radius_km=12,
            skills=[Skill.REPAIR, Skill.DRIVING],
        ),
    )
    row = _get(cast.volunteer)
    assert (row.home_township_id, row.home_village_id) == (org["township_b"].id, org["village_b1"].id)
    assert row.category_bits == category_bits([org["category"].id, org["other_category"].id])
    assert (row.availability, row.service_radius_km) == (0b111, 12)
    assert row.skill_bits == skill_bits([Skill.REPAIR, Skill.DRIVING])


def test_the_full_refresh_catches_what_changed_past_the_services(cast, org):
    VolunteerProfile.objects.filter(id=cast.volunteer.id).update(is_active=False)
    VolunteerProfile.objects.filter(id=cast.other_volunteer.id).update(availability=0b1)
    org["township_a"].latitude, org["township_a"].longitude = Decimal("39.480000"), Decimal("115.960000")
    org["township_a"].save(update_fields=["latitude", "longitude"])
    assert _row(cast.volunteer) is not None

    assert matchable_refresh() == 1
    assert _row(cast.volunteer) is None
    row = _get(cast.other_volunteer)
    assert row.availability == 0b1
    assert (row.home_latitude, row.home_longitude) == (39.48, 115.96)
    assert matchable_refresh(volunteer_ids=[]) == 0


@pytest.mark.parametrize("batch", [1, 5000])
def test_the_full_refresh_works_through_every_batch(cast, org, batch, monkeypatch):
    monkeypatch.setattr("apps.volunteers.matchable.BATCH", batch)
    MatchableVolunteer.objects.all().delete()
    assert matchable_refresh() == 2
    assert set(MatchableVolunteer.objects.values_list("volunteer_id", flat=True)) == {
        cast.volunteer.id,
        cast.other_volunteer.id,
    }
