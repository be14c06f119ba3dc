import pytest
from apps.accounts.models import User
from apps.accounts.phones import phone_digest

def test_admin_creates_user_with_phone(client, cast):
    client.force_login(cast.admin)
    r = client.post("/admin/accounts/user/add/", {"phone": "138 0000 1234", "name": "新用户", "password1": "a-long-pass-2026", "password2": "a-long-pass-2026", "usable_password": "true"})
    assert r.status_code == 302, r.content.decode()[:3000]
    user = User.objects.get(phone_digest=phone_digest("13800001234"))
    assert user.phone == "13800001234" and user.check_password("a-long-pass-2026")
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get(f"/admin/accounts/user/{user.id}/change/").status_code == 200
