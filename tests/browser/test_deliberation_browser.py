"""Phone browser: a 屋场会's attendance and vote, the computed result; board and print screenshots."""

import datetime as dt

import pytest
from django.utils import timezone

from deliberation import services
from deliberation.models import Meeting
from grids.models import Resident, Role
from tests.deliberation.factories import households_with_adults
from tests.deliberation.test_rules import _in_force
from tests.factories import RepresentativeFactory, user_with_scope
from tests.screenshots import shot

SAMPLE_RULES = [
    ("爱党爱国", "拥护中国共产党的领导，遵守宪法和法律法规，积极参加村里组织的各项公益活动。"),
    ("孝老爱亲", "子女应当赡养父母，关心独居老人和留守儿童；不得虐待、遗弃家庭成员。"),
    (
        "移风易俗",
        "红白喜事从简办理，婚事新办、丧事简办，不大操大办，不攀比，礼金不超过村红白理事会标准。",
    ),
    ("禁毒禁赌", "不吸毒、不贩毒、不赌博，发现涉毒涉赌线索及时向村禁毒禁赌会报告。"),
    ("人居环境", "自觉落实门前三包，生活垃圾分类投放，不乱倒垃圾、不乱堆乱放、不焚烧秸秆。"),
    ("邻里和睦", "邻里之间互谅互让，发生矛盾纠纷先由网格内议事协商，小事不出网格。"),
    ("安全生产", "汛期服从防汛安排，不私拉乱接电线，不在禁止区域野外用火。"),
    ("积分管理", "本村实行积分制管理，积分规则由村民会议讨论决定，积分可在积分超市兑换物品。"),
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_wuchang_meeting_attendance_and_vote_on_a_phone(
    phone_page, live_server, browser_login, village, grid
):
    # Given a 屋场会 with its notice out and a motion on the agenda
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village, username="clerk")
    households_with_adults(grid, 3)
    people = list(Resident.objects.filter(household__village=village).order_by("id"))
    meeting = services.meeting_create(
        actor=clerk,
        village=village,
        kind=Meeting.Kind.WUCHANG,
        title="刘家屋场会",
        venue=Meeting.Venue.WUCHANG,
        venue_name="刘家屋场",
        scheduled_at=timezone.now() + dt.timedelta(hours=1),
        notice_text="商量修通组路",
        agenda=["修通组路"],
    )
    services.meeting_announce(actor=clerk, meeting=meeting)
    motion = services.motion_create(
        actor=clerk, village=village, meeting=meeting, title="同意修通组路"
    )
    page = phone_page
    browser_login(page, "clerk")

    # When the clerk ticks three residents on the phone and saves
    page.goto(f"{live_server.url}/meetings/{meeting.pk}/attendance/")
    for person in people:
        page.check(f"#r{person.pk}")
    page.click("text=保存到会名单")
    assert "已到会 3 人" in page.inner_text("#present-count")
    shot(page, "meeting-attendance-phone.png")

    # And records two votes in favour and one against
    page.click("text=同意修通组路")
    page.click("text=开始表决")
    for person, choice in zip(people, ["赞成", "赞成", "反对"], strict=True):
        page.select_option("select[name=voter]", str(person.pk))
        page.get_by_role("radio", name=choice, exact=True).check()
        page.click("text=记录这一票")
    page.click("text=结束表决，查看结果")

    # Then the result is computed and explained
    outcome = page.inner_text("#outcome")
    assert "通过" in outcome
    assert "赞成2票，实际投票3，须超过半数：通过" in outcome
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "deliberation-vote-result-phone.png")
    assert motion.votes.count() == 3


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_public_board_and_printed_rules_screenshots(
    phone_page, desktop_page, live_server, village, grid, township_staff
):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)
    households_with_adults(grid, 4)
    RepresentativeFactory(grid=grid, resident__name="刘建国", card_number="CDH-2024-001")
    version = _in_force(clerk, township_staff, village, grid, articles=SAMPLE_RULES)
    services.meeting_announce(
        actor=clerk,
        meeting=services.meeting_create(
            actor=clerk,
            village=village,
            kind=Meeting.Kind.YEHUA,
            title="夜话乡村：人居环境整治",
            venue=Meeting.Venue.CORRIDOR,
            scheduled_at=timezone.now() + dt.timedelta(days=3),
            notice_text="请各户派代表到议事长廊参加。",
            agenda=["垃圾分类", "门前三包"],
        ),
    )
    assert version.status == "in_force"

    phone_page.goto(f"{live_server.url}/p/{village.code}/")
    board = phone_page.inner_text("main")
    assert "刘建国" in board and "CDH-2024-001" in board
    assert "夜话乡村：人居环境整治" in board
    shot(phone_page, "public-village-board.png")

    desktop_page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    desktop_page.goto(f"{live_server.url}/p/{village.code}/rules/")
    desktop_page.emulate_media(media="print")
    assert "第8条" in desktop_page.inner_text("main")
    shot(desktop_page, "village-rules-print.png")
    pdf = desktop_page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
