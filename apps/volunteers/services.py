import uuid

from django.db import transaction

from apps.accounts.models import User
from apps.organisation.models import Place, ServiceCategory

from .models import VolunteerProfile


def volunteer_register(
    *,
    user: User,
    home_township: Place,
    home_village: Place | None,
    categories: list[ServiceCategory],
    verified: bool = False,
) -> VolunteerProfile:
    """Create the volunteer profile of an existing user. Verification is a separate act by staff."""
    with transaction.atomic():
        profile = VolunteerProfile.objects.create(
            user=user,
            # Numbered from the row's own id, so concurrent sign-ups cannot collide.
            volunteer_number=uuid.uuid4().hex[:16],
            home_township=home_township,
            home_village=home_village,
            is_verified=verified,
        )
        profile.volunteer_number = f"ZZV{profile.id:07d}"
        VolunteerProfile.objects.filter(id=profile.id).update(volunteer_number=profile.volunteer_number)
        profile.categories.set(categories)
    return profile
