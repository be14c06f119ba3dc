from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat, LPad
from django.db.models.functions.text import Cast
from django.utils import timezone

from apps.accounts.models import User
from apps.organisation.models import Place, ServiceCategory

from .models import ApplicationStatus, VolunteerProfile


def assign_volunteer_number(profile: VolunteerProfile) -> None:
    """Give the profile its platform number ``ZZV`` + the row id in 7 digits, in SQL, so that
    concurrent approvals cannot collide."""
    VolunteerProfile.objects.filter(id=profile.id, volunteer_number__isnull=True).update(
        volunteer_number=Concat(Value("ZZV"), LPad(Cast(F("id"), output_field=CharField()), 7, Value("0")))
    )
    profile.volunteer_number = VolunteerProfile.objects.values_list("volunteer_number", flat=True).get(id=profile.id)


def volunteer_register(
    *,
    user: User,
    home_township: Place,
    home_village: Place | None,
    categories: list[ServiceCategory],
    verified: bool = False,
) -> VolunteerProfile:
    """Create the volunteer profile of an existing user with the dispatch fields only (demo data,
    tests). ``verified`` makes it an approved registration with its platform number at once;
    otherwise it waits for review."""
    with transaction.atomic():
        now = timezone.now()
        profile = VolunteerProfile.objects.create(
            user=user,
            home_township=home_township,
            home_village=home_village,
            is_verified=verified,
            status=ApplicationStatus.APPROVED if verified else ApplicationStatus.PENDING,
            submitted_at=now,
            reviewed_at=now if verified else None,
        )
        if verified:
            assign_volunteer_number(profile)
        profile.categories.set(categories)
    return profile
