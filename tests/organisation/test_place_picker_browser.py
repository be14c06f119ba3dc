"""The village picker in headless Chromium on a phone, over the city's real 450 villages and
communities: pre-filled with the home village, township → village, type-to-search through a
Chinese input method (no filtering on pinyin while composing), keyboard, 长辈版, and the page
without JavaScript."""

import csv

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Locator, Page, expect

from apps.accounts.models import User
from apps.organisation.models import OrgNode, Place
from apps.organisation.services import DIVISIONS_CSV, VILLAGES_CSV
from apps.service_requests.models import ServiceRequest
from tests.accounts.factories import make_user
from tests.browser import PHONE
from tests.organisation.factories import ServiceCategoryFactory

pytestmark = [pytest.mark.browser]


@pytest.fixture
def city(transactional_db) -> dict[str, Place]:
    """The city's real townships and villages from the bundled division lists, in a handful of
    queries (``load_reference_data`` also builds 450 stations, which takes far longer); requests
    go to the township offices, as they do for a village without a station."""
    with DIVISIONS_CSV.open(encoding="utf-8") as fh:
        division_rows = list(csv.DictReader(fh))
    with VILLAGES_CSV.open(encoding="utf-8") as fh:
        village_rows = list(csv.DictReader(fh))
    city_row = next(row for row in division_rows if row["kind"] == "city")
    city = Place.objects.create(code=city_row["code"], name=city_row["name"], kind=Place.Kind.CITY)
    townships = {
        row["code"]: Place(code=row["code"], name=row["name"], kind=Place.Kind.TOWNSHIP, parent=city)
        for row in division_rows
        if row["kind"] != "city"
    }
    Place.objects.bulk_create(townships.values())
    Place.objects.bulk_create(
        Place(code=row["code"], name=row["name"], kind=Place.Kind.VILLAGE, parent=townships[row["township_code"]])
        for row in village_rows
    )
    centre = OrgNode.objects.add_root(dict(name="涿州市新时代文明实践中心", kind=OrgNode.Kind.CENTRE, place=city))
    for township in townships.values():
        centre = OrgNode.objects.get(id=centre.id)
        OrgNode.objects.add_child(
            centre, dict(name=f"{township.name}新时代文明实践所", kind=OrgNode.Kind.TOWNSHIP_OFFICE, place=township)
        )
    ServiceCategoryFactory(code="convenience", name="便民服务")
    assert (len(townships), len(village_rows)) == (14, 450)
    return {
        "taoyuan": Place.objects.get(kind=Place.Kind.TOWNSHIP, name="桃园街道"),
        "matou": Place.objects.get(kind=Place.Kind.TOWNSHIP, name="码头镇"),
        "taipingzhuang": Place.objects.get(name="太平庄村", parent__name="桃园街道"),
        "sanhezhuang": Place.objects.get(name="三合庄村", parent__name="码头镇"),
    }


@pytest.fixture
def resident(city) -> User:
    return make_user(name="王秀兰", home_township=city["taoyuan"], home_village=city["taipingzhuang"])


def _log_in(page: Page, base: str, user: User) -> None:
    """A session made by Django's test client (the log-in page has tests of its own)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base}])


def _list_labels(listbox: Locator) -> list[str]:
    return listbox.locator("option").all_inner_texts()


def _groups(listbox: Locator) -> list[str]:
    return listbox.locator("optgroup").evaluate_all("groups => groups.map(g => g.label)")


def _selected_text(select: Locator) -> str:
    return select.evaluate("s => s.selectedIndex < 0 ? '' : s.options[s.selectedIndex].textContent")


def _selected_in_sight(select: Locator) -> bool:
    return bool(
        select.evaluate(
            """s => {
                const o = s.options[s.selectedIndex].getBoundingClientRect(), r = s.getBoundingClientRect();
                return o.height > 0 && o.top >= r.top && o.bottom <= r.bottom;
            }"""
        )
    )


def _compose(search: Locator, steps: list[str], result: str) -> None:
    """What a pinyin input method sends while the user types ``steps`` and picks ``result``:
    compositionstart, an ``input`` (isComposing) for each step, the committed text's last
    ``input`` (isComposing, as Chromium sends it) and then compositionend."""
    search.evaluate(
        """(el, [steps, result]) => {
            el.focus();
            el.dispatchEvent(new CompositionEvent("compositionstart", {bubbles: true, data: ""}));
            for (const step of steps) {
                el.value = step;
                el.dispatchEvent(new CompositionEvent("compositionupdate", {bubbles: true, data: step}));
                el.dispatchEvent(new InputEvent("input", {bubbles: true, data: step, isComposing: true,
                                                          inputType: "insertCompositionText"}));
            }
            el.value = result;
            el.dispatchEvent(new InputEvent("input", {bubbles: true, data: result, isComposing: true,
                                                      inputType: "insertCompositionText"}));
            el.dispatchEvent(new CompositionEvent("compositionend", {bubbles: true, data: result}));
        }""",
        [steps, result],
    )


def test_pick_a_village_by_typing_through_a_chinese_input_method(live_server, browser, city, resident) -> None:
    base = live_server.url
    context = browser.new_context(**PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(page, base, resident)
    page.goto(f"{base}/r/requests/new/")

    township = page.get_by_label("乡镇/街道")
    search = page.get_by_label("按村名查找")
    listbox = page.get_by_label("所在村/社区")
    chosen = page.locator(".pp-chosen")

    # Pre-filled with the home village; the list shows that township's villages.
    expect(township).to_be_visible()
    assert _selected_text(township) == "桃园街道"
    assert _selected_text(listbox) == "太平庄村"
    assert _selected_in_sight(listbox)
    expect(chosen).to_have_text("已选择：太平庄村（桃园街道）")
    assert _groups(listbox) == ["桃园街道"]
    taoyuan = _list_labels(listbox)
    assert len(taoyuan) == Place.objects.filter(parent=city["taoyuan"]).count() == 21 and "太平庄村" in taoyuan
    assert page.locator("input[type=hidden][name=village]").input_value() == str(city["taipingzhuang"].id)

    # Pinyin while composing filters nothing; the committed Chinese text does.
    _compose(search, ["s", "san", "sanhe"], "三合")
    expect(search).to_have_value("三合")
    expect(page.locator(".pp-status")).to_have_text("找到 2 个村/社区，请在下面的列表中选择。")
    assert _list_labels(listbox) == ["三合庄村", "三合屯村"]
    assert _groups(listbox) == ["码头镇", "高官庄镇"]
    expect(chosen).to_have_text("已选择：太平庄村（桃园街道）")  # nothing chosen behind the user's back

    # A check that the pinyin really was ignored: the same steps without the commit.
    page.evaluate(
        """() => {
            const el = document.getElementById("id_village_search");
            el.value = "";
            el.dispatchEvent(new InputEvent("input", {bubbles: true}));
            el.dispatchEvent(new CompositionEvent("compositionstart", {bubbles: true}));
            el.value = "sanhe";
            el.dispatchEvent(new InputEvent("input", {bubbles: true, isComposing: true}));
        }"""
    )
    assert _list_labels(listbox) == taoyuan  # "sanhe" matched nothing, and nothing was filtered
    expect(page.locator(".pp-status")).to_have_text("")
    page.evaluate(
        """() => {
            const el = document.getElementById("id_village_search");
            el.value = "三合";
            el.dispatchEvent(new CompositionEvent("compositionend", {bubbles: true, data: "三合"}));
        }"""
    )
    assert _list_labels(listbox) == ["三合庄村", "三合屯村"]

    # The same through Chromium's own input-method path (the DevTools protocol's IME calls):
    # real compositionstart/update, input events with isComposing, and the commit.
    search.fill("")
    assert _list_labels(listbox) == taoyuan
    search.focus()
    cdp = context.new_cdp_session(page)
    for step in ("s", "sa", "san", "sanh", "sanhe"):
        cdp.send("Input.imeSetComposition", {"text": step, "selectionStart": len(step), "selectionEnd": len(step)})
        assert _list_labels(listbox) == taoyuan, step  # nothing filtered on pinyin
    expect(search).to_have_value("sanhe")
    expect(page.locator(".pp-status")).to_have_text("")
    cdp.send("Input.insertText", {"text": "三合"})
    expect(search).to_have_value("三合")
    expect(page.locator(".pp-status")).to_have_text("找到 2 个村/社区，请在下面的列表中选择。")
    assert _list_labels(listbox) == ["三合庄村", "三合屯村"]
    cdp.detach()

    # Keyboard: Enter in the box picks the first result (not a form submission), the township follows.
    search.focus()
    search.press("Enter")
    expect(listbox).to_be_focused()
    assert ServiceRequest.objects.count() == 0
    expect(chosen).to_have_text("已选择：三合庄村（码头镇）")
    assert _selected_text(township) == "码头镇"
    listbox.press("ArrowDown")
    expect(chosen).to_have_text("已选择：三合屯村（高官庄镇）")
    assert _selected_text(township) == "高官庄镇"
    listbox.press("ArrowUp")
    expect(chosen).to_have_text("已选择：三合庄村（码头镇）")
    assert _selected_text(township) == "码头镇"

    # Clearing the search shows the chosen township's villages, the choice kept.
    search.fill("")
    assert _groups(listbox) == ["码头镇"]
    assert _selected_text(listbox) == "三合庄村"
    page.screenshot(path="test-artifacts/20-place-picker-phone.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0

    page.get_by_label("需要什么服务").select_option(label="便民服务")
    page.get_by_label("标题").fill("帮忙修理水龙头")
    page.get_by_label("详细说明").fill("厨房水龙头一直滴水。")
    page.get_by_label("详细地址").fill("三合庄村东街1号")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_role("button", name="提交需求").click()
    expect(page.locator(".messages")).to_contain_text("需求已提交，我们会尽快处理。")
    created = ServiceRequest.objects.get()
    assert (created.village, created.township) == (city["sanhezhuang"], city["matou"])
    assert errors == []
    context.close()


def test_township_first_then_village_and_plain_typing(live_server, browser, city, resident) -> None:
    base = live_server.url
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _log_in(page, base, resident)
    page.goto(f"{base}/r/requests/new/")
    township = page.get_by_label("乡镇/街道")
    listbox = page.get_by_label("所在村/社区")
    chosen = page.locator(".pp-chosen")

    # Another township: the home village is no longer chosen and the list shows its villages.
    township.select_option(label="码头镇")
    expect(chosen).to_have_text("尚未选择村/社区。")
    assert _groups(listbox) == ["码头镇"]
    matou = list(Place.objects.filter(parent=city["matou"]).values_list("name", flat=True))
    assert sorted(_list_labels(listbox)) == sorted(matou)
    # Enter in the empty search box neither submits the form nor chooses for the user.
    page.get_by_label("按村名查找").press("Enter")
    expect(listbox).to_be_focused()
    expect(chosen).to_have_text("尚未选择村/社区。")
    expect(page).to_have_url(f"{base}/r/requests/new/")
    listbox.select_option(label="三合庄村")
    expect(chosen).to_have_text("已选择：三合庄村（码头镇）")

    # Typing without an input method (e.g. a hardware keyboard's paste): names that start with
    # the text first; a single match is chosen and its township follows.
    search = page.get_by_label("按村名查找")
    search.fill("太平")
    assert _list_labels(listbox) == ["太平庄村", "东太平庄村"]
    search.fill("东太平庄")
    expect(chosen).to_have_text("已选择：东太平庄村（刁窝镇）")
    assert _selected_text(township) == "刁窝镇"
    search.fill("不存在的村")
    expect(page.locator(".pp-status")).to_have_text("没有找到名称包含“不存在的村”的村/社区。")
    assert _list_labels(listbox) == []
    expect(chosen).to_have_text("已选择：东太平庄村（刁窝镇）")
    context.close()


def test_elder_mode_makes_every_picker_target_60_px(live_server, browser, city, resident) -> None:
    base = live_server.url
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _log_in(page, base, resident)
    page.goto(f"{base}/r/requests/new/")
    page.get_by_role("button", name="长辈版").click()
    expect(page.locator("body")).to_have_class("elder")
    for label in ("乡镇/街道", "按村名查找", "所在村/社区"):
        box = page.get_by_label(label).bounding_box()
        assert box is not None and box["height"] >= 60, label
    heights = page.locator("#id_village option").evaluate_all("os => os.map(o => o.getBoundingClientRect().height)")
    assert len(heights) == 21 and min(heights) >= 60  # 桃园街道's villages and communities
    assert _selected_text(page.get_by_label("所在村/社区")) == "太平庄村"
    assert _selected_in_sight(page.get_by_label("所在村/社区"))
    assert page.evaluate("window.scrollY") == 0  # the list scrolled, not the page
    page.screenshot(path="test-artifacts/21-place-picker-elder.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow == 0
    context.close()


def test_without_javascript_one_grouped_select_does_the_job(live_server, browser, city, resident) -> None:
    base = live_server.url
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    _log_in(page, base, resident)
    page.goto(f"{base}/r/requests/new/")
    expect(page.get_by_label("按村名查找")).to_be_hidden()
    village = page.get_by_label("所在村/社区")
    assert village.evaluate("s => s.size") == 0
    assert _selected_text(village) == "太平庄村"
    assert len(_groups(village)) == 14
    assert village.locator("option[value]:not([value=''])").count() == Place.objects.filter(kind="village").count()
    village.select_option(label="三合庄村")
    page.get_by_label("需要什么服务").select_option(label="便民服务")
    page.get_by_label("标题").fill("帮忙修理水龙头")
    page.get_by_label("详细说明").fill("厨房水龙头一直滴水。")
    page.get_by_label("详细地址").fill("三合庄村东街1号")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_role("button", name="提交需求").click()
    expect(page.locator(".messages")).to_contain_text("需求已提交，我们会尽快处理。")
    assert ServiceRequest.objects.get().village == city["sanhezhuang"]
    context.close()
