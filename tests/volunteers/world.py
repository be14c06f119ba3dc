"""Applications on top of the cast: the applicant (village A1, township A, pending) and the
other applicant (village B1, township B, pending)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from apps.accounts.models import User
from apps.organisation.models import Place, ServiceCategory
from apps.volunteers.availability import mask_from_codes
from apps.volunteers.models import IdReveal, VolunteerEvent, VolunteerProfile
from apps.volunteers.services import ApplicationInput, application_submit
from tests.accounts.factories import make_user
from tests.volunteers.ids import resident_id

APPLICANT_ID = resident_id(date(1990, 3, 7), sequence="351")
OTHER_ID = resident_id(date(1988, 11, 20), sequence="462")
APPLICANT_PHONE = "13911112222"
OTHER_PHONE = "13933334444"


def application(
    *, village: Place, categories: list[ServiceCategory], id_number: str, name: str = "赵志愿", **extra: Any
) -> ApplicationInput:
    values: dict[str, Any] = {
        "name": name,
        "id_type": "resident_id",
        "id_number": id_number,
        "village": village,
        "categories": categories,
        "availability": mask_from_codes(["sat_morning", "sat_afternoon"]),
        "privacy_consent": True,
        "skills": ["elder_care"],
        "service_radius_km": 5,
        "emergency_contact_name": "赵大哥",
        "emergency_contact_phone": "13955556666",
        **extra,
    }
    return ApplicationInput(**values)


@dataclass
class Applications:
    applicant: User
    other_applicant: User
    profile: VolunteerProfile
    other_profile: VolunteerProfile


def build_applications(org: dict) -> Applications:
    applicant = make_user(name="临时名", phone=APPLICANT_PHONE)
    other = make_user(name="临时名二", phone=OTHER_PHONE)
    profile = application_submit(
        user=applicant,
        data=application(village=org["village_a1"], categories=[org["category"]], id_number=APPLICANT_ID),
    )
    other_profile = application_submit(
        user=other,
        data=application(village=org["village_b1"], categories=[org["category"]], id_number=OTHER_ID, name="钱申请"),
    )
    return Applications(applicant=applicant, other_applicant=other, profile=profile, other_profile=other_profile)


def volunteer_state() -> dict[str, Any]:
    """Everything a refused volunteer write must leave alone."""
    return {
        "profiles": sorted(
            VolunteerProfile.objects.values_list(
                "id",
                "status",
                "volunteer_number",
                "is_active",
                "is_verified",
                "rejection_reason",
                "availability",
                "service_radius_km",
                "home_village_id",
                "id_digest",
            )
        ),
        "events": VolunteerEvent.objects.count(),
        "reveals": IdReveal.objects.count(),
        "users": sorted(User.objects.values_list("id", "name", "is_active", "phone_digest")),
    }
