from apps.accounts.models import User
from apps.accounts.phones import phone_digest


def test_admin_creates_a_user_from_a_phone_number_stored_encrypted(client, cast):
    client.force_login(cast.admin)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "phone": "138 0000 1234",
            "name": "新用户",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(phone_digest=phone_digest("13800001234"))
    assert (user.phone, user.name) == ("13800001234", "新用户")
    assert user.check_password("a-long-pass-2026")
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get(f"/admin/accounts/user/{user.id}/change/").status_code == 200


def test_admin_refuses_a_phone_number_already_registered(client, cast):
    client.force_login(cast.admin)
    before = User.objects.count()
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "phone": cast.resident.phone,
            "name": "重复",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )
    assert response.status_code == 200
    assert "该手机号已注册。" in response.content.decode()
    assert User.objects.count() == before


def test_every_admin_list_add_and_change_page_opens(client, cast, org):
    from django.contrib import admin

    from apps.dispatch.services import dispatch_directed
    from apps.service_requests.services import request_review
    from tests.service_requests.factories import submit_request

    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    client.force_login(cast.admin)
    opened = []
    for model in admin.site._registry:
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        assert client.get(base).status_code == 200, base
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            assert client.get(f"{base}{first.pk}/change/").status_code == 200, base
        opened.append(meta.label)
    assert {
        "accounts.User",
        "organisation.OrgNode",
        "organisation.Place",
        "organisation.ServiceCategory",
        "volunteers.VolunteerProfile",
        "service_requests.ServiceRequest",
        "dispatch.Offer",
        "ratings.Rating",
        "notifications.Notification",
    } <= set(opened)
