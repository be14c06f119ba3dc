from apps.accounts.models import User
from apps.organisation.models import Place, ServiceCategory
from apps.volunteers.models import VolunteerProfile
from apps.volunteers.services import volunteer_register
from tests.accounts.factories import make_user


def make_volunteer(
    *,
    township: Place,
    village: Place | None = None,
    categories: list[ServiceCategory] = (),  # type: ignore[assignment]
    verified: bool = True,
    user: User | None = None,
    **user_kwargs: object,
) -> VolunteerProfile:
    return volunteer_register(
        user=user or make_user(**user_kwargs),
        home_township=township,
        home_village=village,
        categories=list(categories),
        verified=verified,
    )
