"""The log-in lockout: the service against the configured (shared) cache, and the three log-in
paths that use it — the page, the admin and the API token.

Pinned choices: 10 wrong passwords per account and 30 per client address within 15 minutes lock
that account (from every address) or that address (for every account) for 15 minutes; the 11th
attempt is refused even with the right password; another account from the same address is not
affected by an account lock; a successful log-in clears the account's count only."""

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from apps.accounts import throttling
from apps.accounts.models import User
from apps.accounts.throttling import client_address, login_attempt_allowed, record_login_failure, record_login_success
from tests.accounts.factories import PASSWORD, make_user

START = 1_800_000_000.0  # 2027-01-15 16:00 in Zhuozhou, at the start of a 15-minute bucket
WINDOW = 15 * 60
LOCKED = "登录失败次数过多，已暂时锁定。请在 15 分钟后（16:15 以后）再试。"
LOCKED_EN = "Too many failed sign-in attempts; signing in is locked for now. Try again in 15 minutes (after 16:15)."
WRONG = "手机号或密码不正确。"
TOKEN_URL = "/api/v1/auth/token/"
HERE, ELSEWHERE = "10.1.1.1", "10.2.2.2"


class Clock:
    def __init__(self) -> None:
        self.value = START

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@pytest.fixture(autouse=True)
def fresh_cache(settings) -> Iterator[None]:
    settings.LOGIN_LOCKOUT_WINDOW = WINDOW
    settings.LOGIN_LOCKOUT_ACCOUNT_FAILURES = 10
    settings.LOGIN_LOCKOUT_ADDRESS_FAILURES = 30
    settings.BEHIND_PROXY = False
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(throttling, "now", fake)
    return fake


class FakeRequest:
    def __init__(self, address: str = HERE, forwarded: str | None = None) -> None:
        self.META = {"REMOTE_ADDR": address}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


def fail(times: int, phone: str, address: str = HERE) -> list[bool]:
    """Record ``times`` wrong passwords; which of them locked something."""
    return [not record_login_failure(FakeRequest(address), phone).allowed for _ in range(times)]  # type: ignore[arg-type]


def allowed(phone: str, address: str = HERE) -> bool:
    return login_attempt_allowed(FakeRequest(address), phone).allowed  # type: ignore[arg-type]


# --- the service ---------------------------------------------------------------------------------


def test_the_throttles_count_in_the_shared_cache_never_in_process_memory() -> None:
    backend = django_settings.CACHES["default"]["BACKEND"]
    assert "locmem" not in backend
    if django_settings.CACHE_URL.startswith("redis"):
        assert backend == "apps.core.cache.ResilientRedisCache"  # Django's Redis cache, a miss during an outage
    # DRF's scoped throttle on the token endpoint uses the same default cache.
    from rest_framework.throttling import SimpleRateThrottle

    assert SimpleRateThrottle.cache is cache or SimpleRateThrottle.cache._alias == "default"  # type: ignore[attr-defined]


def test_the_tenth_wrong_password_locks_the_account_and_the_lock_holds_from_every_address() -> None:
    assert fail(10, "13900000001") == [False] * 9 + [True]

    assert not allowed("13900000001")
    assert not allowed("13900000001", ELSEWHERE)  # an account lock applies from every address
    assert allowed("13900000002")  # another account from the same address: its count is at 10 of 30
    assert allowed("13900000002", ELSEWHERE)


def test_the_account_is_the_phone_number_however_it_is_written() -> None:
    fail(5, "139 0000 0001")
    fail(5, "+86 139-0000-0001", ELSEWHERE)
    assert not allowed("13900000001", "10.9.9.9")


def test_the_lock_names_when_to_try_again_and_ends_after_one_window(clock) -> None:
    fail(10, "13900000001")
    decision = login_attempt_allowed(FakeRequest(), "13900000001")  # type: ignore[arg-type]
    assert (decision.allowed, decision.retry_after, decision.message) == (False, WINDOW, LOCKED)
    with translation.override("en"):
        assert decision.message == LOCKED_EN

    clock.advance(WINDOW - 1)
    assert not allowed("13900000001")
    assert login_attempt_allowed(FakeRequest(), "13900000001").retry_after == 1  # type: ignore[arg-type]
    clock.advance(1)
    assert allowed("13900000001")
    # Counting starts afresh after the lock: one more wrong password does not lock again.
    assert fail(1, "13900000001") == [False]
    assert allowed("13900000001")


def test_failures_straddling_a_bucket_boundary_still_add_up(clock) -> None:
    clock.advance(WINDOW - 10)
    assert fail(5, "13900000001") == [False] * 5
    clock.advance(20)  # into the next bucket
    assert fail(5, "13900000001") == [False] * 4 + [True]


def test_failures_older_than_the_window_are_forgotten(clock) -> None:
    fail(9, "13900000001")
    clock.advance(2 * WINDOW)
    assert fail(9, "13900000001") == [False] * 9
    assert allowed("13900000001")


def test_a_successful_log_in_clears_the_account_count_but_not_the_address_count() -> None:
    fail(9, "13900000001")
    record_login_success(FakeRequest(), "13900000001")  # type: ignore[arg-type]
    assert fail(9, "13900000001") == [False] * 9
    assert allowed("13900000001")

    # The address has 18 failures; 12 more at other accounts lock the address (30), not the accounts.
    for n in range(12):
        fail(1, f"1370000{n:04d}")
    assert not allowed("13900000999")  # any account from the locked address
    assert allowed("13900000999", ELSEWHERE)
    assert allowed("13900000001", ELSEWHERE)


def test_the_client_address_is_remote_addr_unless_behind_the_proxy(settings) -> None:
    request = FakeRequest("10.0.0.9", forwarded="1.2.3.4, 5.6.7.8")
    assert client_address(request) == "10.0.0.9"  # type: ignore[arg-type]
    settings.BEHIND_PROXY = True
    assert client_address(request) == "5.6.7.8"  # type: ignore[arg-type]  # the entry the proxy appended
    assert client_address(FakeRequest("10.0.0.9")) == "10.0.0.9"  # type: ignore[arg-type]
    settings.BEHIND_PROXY = False
    # An IPv6 client counts by its /64; an IPv4-mapped address as the IPv4 address.
    assert client_address(FakeRequest("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64"  # type: ignore[arg-type]
    assert client_address(FakeRequest("2001:db8:1:2:bbbb::7")) == "2001:db8:1:2::/64"  # type: ignore[arg-type]
    assert client_address(FakeRequest("::ffff:10.0.0.9")) == "10.0.0.9"  # type: ignore[arg-type]


# --- the three log-in paths ----------------------------------------------------------------------


@pytest.fixture
def owner(db) -> User:
    return make_user(phone="13800000001", name="王秀兰")


@pytest.fixture
def neighbour(db) -> User:
    return make_user(phone="13800000002", name="周建国")


@pytest.fixture
def staff(db) -> User:
    return make_user(phone="13800000003", name="管理员", is_staff=True, is_superuser=True)


def page_login(phone: str, password: str, address: str = HERE, url: str = "/login/") -> tuple[int, str, Client]:
    client = Client(REMOTE_ADDR=address)
    response = client.post(url, {"username": phone, "password": password})
    return response.status_code, response.content.decode(), client


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_page_log_in_refuses_the_eleventh_attempt_for_that_account_even_with_the_right_password(
    owner, neighbour, clock
) -> None:
    for _ in range(10):
        status, body, _client = page_login(owner.phone, "wrong-password")
        assert status == 200
        assert WRONG in body

    status, body, client = page_login(owner.phone, PASSWORD)
    assert status == 429
    assert LOCKED in body
    assert not signed_in(client)
    assert page_login(owner.phone, PASSWORD, ELSEWHERE)[0] == 429  # the account, from any address

    status, _body, client = page_login(neighbour.phone, PASSWORD)  # another account, same address
    assert status == 302
    assert signed_in(client)
    assert page_login(neighbour.phone, PASSWORD, ELSEWHERE)[0] == 302

    clock.advance(WINDOW)
    status, _body, client = page_login(owner.phone, PASSWORD)
    assert status == 302
    assert int(client.session["_auth_user_id"]) == owner.id


def test_page_lockout_response_carries_retry_after_and_speaks_english(owner) -> None:
    for _ in range(10):
        page_login(owner.phone, "wrong-password")
    client = Client(REMOTE_ADDR=HERE, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/login/", {"username": owner.phone, "password": PASSWORD})
    assert response.status_code == 429
    assert response["Retry-After"] == str(WINDOW)
    assert LOCKED_EN in response.content.decode()


def test_admin_log_in_sits_behind_the_same_lockout(staff, neighbour, clock) -> None:
    for _ in range(10):
        status, body, _client = page_login(staff.phone, "wrong-password", url="/admin/login/")
        assert status == 200
        assert LOCKED not in body

    status, body, client = page_login(staff.phone, PASSWORD, url="/admin/login/")
    assert status == 200
    assert LOCKED in body
    assert not signed_in(client)
    assert LOCKED in page_login(staff.phone, PASSWORD, ELSEWHERE, url="/admin/login/")[1]
    # The lock is the account's, whichever log-in counted it.
    assert page_login(staff.phone, PASSWORD)[0] == 429

    # Another account from the same address is judged on its own (not staff: the admin says no).
    status, body, _client = page_login(neighbour.phone, PASSWORD, url="/admin/login/")
    assert LOCKED not in body

    clock.advance(WINDOW)
    status, _body, client = page_login(staff.phone, PASSWORD, url="/admin/login/")
    assert status == 302
    assert int(client.session["_auth_user_id"]) == staff.id


def api_login(phone: str, password: str, address: str = HERE):
    return APIClient(REMOTE_ADDR=address).post(TOKEN_URL, {"phone": phone, "password": password}, format="json")


def test_api_token_refuses_the_eleventh_attempt_with_429_and_retry_after(owner, neighbour, clock) -> None:
    assert [api_login(owner.phone, "wrong-password").status_code for _ in range(10)] == [400] * 10

    response = api_login(owner.phone, PASSWORD)
    assert response.status_code == 429
    assert response.json() == {"detail": LOCKED, "code": "throttled"}
    assert response["Retry-After"] == str(WINDOW)
    assert api_login(owner.phone, PASSWORD, ELSEWHERE).status_code == 429

    assert api_login(neighbour.phone, PASSWORD).status_code == 200  # another account, same address
    assert api_login(neighbour.phone, "wrong-password", ELSEWHERE).status_code == 400
    assert api_login(neighbour.phone, PASSWORD, ELSEWHERE).status_code == 200

    clock.advance(WINDOW)
    response = api_login(owner.phone, PASSWORD)
    assert response.status_code == 200
    assert response.json()["token"]


def test_api_lockout_message_in_english(owner) -> None:
    for _ in range(10):
        api_login(owner.phone, "wrong-password")
    response = APIClient(REMOTE_ADDR=HERE, HTTP_ACCEPT_LANGUAGE="en").post(
        TOKEN_URL, {"phone": owner.phone, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert response.json() == {"detail": LOCKED_EN, "code": "throttled"}


def test_wrong_passwords_count_across_the_three_log_ins(owner) -> None:
    for _ in range(4):
        page_login(owner.phone, "wrong-password")
    for _ in range(3):
        page_login(owner.phone, "wrong-password", url="/admin/login/")
    for _ in range(3):
        api_login(owner.phone, "wrong-password")
    assert api_login(owner.phone, PASSWORD).status_code == 429


def test_a_successful_log_in_clears_the_count_on_every_path(owner) -> None:
    for _ in range(9):
        api_login(owner.phone, "wrong-password")
    assert page_login(owner.phone, PASSWORD)[0] == 302
    assert [api_login(owner.phone, "wrong-password").status_code for _ in range(9)] == [400] * 9
    assert api_login(owner.phone, PASSWORD).status_code == 200


def test_an_address_spraying_many_accounts_is_locked_for_all_of_them_and_only_there(owner, neighbour) -> None:
    for n in range(30):
        assert page_login(f"1370000{n:04d}", "wrong-password")[0] == 200
    response = api_login(owner.phone, PASSWORD)
    assert response.status_code == 429
    assert response.json() == {"detail": LOCKED, "code": "throttled"}
    assert page_login(neighbour.phone, PASSWORD)[0] == 429
    assert api_login(owner.phone, PASSWORD, ELSEWHERE).status_code == 200
