"""The volunteer's consent to show their phone to the residents they serve: off unless they tick
it on their own page, explained there, changed only by them, and gone when they leave."""

import pytest

from apps.volunteers.models import VolunteerProfile
from apps.volunteers.services import volunteer_leave

pytestmark = pytest.mark.django_db

LABEL = "同意向我服务的群众显示我的手机号"
EXPLANATION = (
    "勾选后，在您接单的需求服务结束前，点单群众能在需求页面看到并直接拨打您的手机号；不勾选时，群众只能"
    "拨打服务站的热线，由服务站联系您。手机号属于个人信息，只有经您同意才会显示，您可以随时取消勾选。"
)
BOX = (
    '<input type="checkbox" name="share_phone_with_residents" aria-describedby="share-phone-explained"'
    ' id="id_share_phone_with_residents"'
)
SHARED, NOT_SHARED = "能：您服务中的需求，点单群众可以直接打给您", "不能：群众拨打服务站热线"


def profile_form(org, **extra) -> dict:
    """The profile page's form as the volunteer of the cast has it (village A1, convenience)."""
    return {
        "village": str(org["village_a1"].id),
        "service_radius_km": "5",
        "categories": [str(org["category"].id)],
        "availability": ["sat_morning"],
        **extra,
    }


def shares(profile: VolunteerProfile) -> bool:
    return VolunteerProfile.objects.get(id=profile.id).share_phone_with_residents


def test_the_profile_page_offers_the_consent_unticked_and_says_what_it_means(client, cast):
    client.force_login(cast.volunteer.user)
    html = client.get("/v/profile/").content.decode()
    assert f"{BOX}> {LABEL}</label>" in html
    assert f'<p id="share-phone-explained" class="meta">{EXPLANATION}</p>' in html
    assert f'<dd class="share-phone">{NOT_SHARED}</dd>' in html
    assert shares(cast.volunteer) is False


def test_the_volunteer_ticks_and_unticks_the_consent_on_their_page(client, cast, org):
    client.force_login(cast.volunteer.user)

    response = client.post("/v/profile/", profile_form(org, share_phone_with_residents="on"))
    assert (response.status_code, response["Location"]) == (302, "/v/profile/")
    assert shares(cast.volunteer) is True
    html = client.get("/v/profile/").content.decode()
    assert f"{BOX} checked> {LABEL}</label>" in html
    assert f'<dd class="share-phone">{SHARED}</dd>' in html
    assert shares(cast.other_volunteer) is False

    response = client.post("/v/profile/", profile_form(org))
    assert (response.status_code, response["Location"]) == (302, "/v/profile/")
    assert shares(cast.volunteer) is False


def test_a_refused_profile_edit_leaves_the_consent_as_it_was(client, cast, org):
    client.force_login(cast.volunteer.user)
    response = client.post("/v/profile/", profile_form(org, share_phone_with_residents="on", service_radius_km="99"))
    assert response.status_code == 200
    assert shares(cast.volunteer) is False


def test_an_api_profile_change_keeps_the_consent_given_on_the_page(api, client, cast, org):
    client.force_login(cast.volunteer.user)
    client.post("/v/profile/", profile_form(org, share_phone_with_residents="on"))

    response = api(cast.volunteer).patch("/api/v1/volunteer/profile/", {"service_radius_km": 12}, format="json")
    assert response.status_code == 200, response.content
    assert shares(cast.volunteer) is True


def test_leaving_the_platform_withdraws_the_consent(client, cast, org):
    client.force_login(cast.volunteer.user)
    client.post("/v/profile/", profile_form(org, share_phone_with_residents="on"))
    volunteer_leave(profile=VolunteerProfile.objects.get(id=cast.volunteer.id), actor=cast.volunteer.user)
    assert shares(cast.volunteer) is False
