from apps.accounts.models import User
from apps.accounts.phones import phone_digest


def test_admin_creates_a_user_from_a_phone_number_stored_encrypted(client, cast):  # type: ignore[no-untyped-def]
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


def test_admin_refuses_a_phone_number_already_registered(client, cast):  # type: ignore[no-untyped-def]
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
