"""Honours on the village's public board and the public honours list: masked names, no PII."""

import pytest
from django.urls import reverse

from grids.models import Resident, Role
from points import services
from tests.factories import GridFactory, HouseholdFactory, user_with_scope
from tests.points.factories import held_meeting

pytestmark = pytest.mark.django_db


def _household_with_head(grid, name: str, phone: str = "13812345678", id_number=""):
    household = HouseholdFactory(grid=grid, address="长东湖村三组18号")
    head = Resident.objects.create(
        household=household,
        name=name,
        relation="户主",
        phone=phone,
        id_number=id_number or "430903198001011234",
    )
    household.head = head
    household.save(update_fields=["head"])
    return household


@pytest.fixture
def honoured(grid, village_clerk):
    """Two honoured households of the village: 张三明 (2026 文明家庭), 李四海 (2025 最美庭院)."""
    meeting = held_meeting(grid.village, village_clerk, title="道德评议会")
    zhang = _household_with_head(grid, "张三明")
    li = _household_with_head(grid, "李四海", phone="13900001111", id_number="430903197002021111")
    services.honour_award(
        actor=village_clerk,
        household=zhang,
        title="文明家庭",
        year=2026,
        meeting=meeting,
        note="照顾瘫痪婆婆十年，电话13812345678",
    )
    services.honour_award(
        actor=village_clerk, household=li, title="最美庭院", year=2025, meeting=meeting
    )
    return zhang, li


def _assert_no_personal_information(body: str, *households) -> None:
    for household in households:
        head = household.head
        assert head.name not in body
        assert head.phone not in body and head.id_number not in body
        assert household.address not in body
    assert "照顾瘫痪婆婆" not in body  # the staff's note stays on the certificate


def test_board_lists_honours_with_masked_head_name_title_and_year(client, village, honoured):
    zhang, li = honoured

    body = client.get(reverse("deliberation:public_board", args=[village.code])).content.decode()

    section = body.split('id="board-honours"', 1)[1].split("</section>", 1)[0]
    assert "<td>2026</td><td>文明家庭</td><td>张*明</td>" in section
    assert "<td>2025</td><td>最美庭院</td><td>李*海</td>" in section
    assert reverse("points:public_honours", args=[village.code]) in section
    _assert_no_personal_information(body, zhang, li)


def test_board_shows_only_its_own_villages_honours(client, village, other_village, village_clerk):
    other_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
    outsider = _household_with_head(GridFactory(village=other_village), "王五六")
    services.honour_award(
        actor=other_clerk,
        household=outsider,
        title="文明家庭",
        year=2026,
        meeting=held_meeting(other_village, other_clerk),
    )

    body = client.get(reverse("deliberation:public_board", args=[village.code])).content.decode()

    assert "王*六" not in body and "本村暂无荣誉称号" in body


def test_public_honours_list_groups_by_year_without_personal_information(client, village, honoured):
    zhang, li = honoured

    response = client.get(reverse("points:public_honours", args=[village.code]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.index('id="honours-2026"') < body.index('id="honours-2025"')
    assert "<td>文明家庭</td><td>张*明</td>" in body
    assert "<td>最美庭院</td><td>李*海</td>" in body
    _assert_no_personal_information(body, zhang, li)


def test_public_honours_of_unknown_village_is_404(client, db):
    assert client.get(reverse("points:public_honours", args=["999999999999"])).status_code == 404


def test_board_honours_cost_a_fixed_number_of_queries(
    client, grid, village_clerk, django_assert_num_queries
):
    meeting = held_meeting(grid.village, village_clerk)
    url = reverse("points:public_honours", args=[grid.village.code])

    def award(n):
        for i in range(n):
            services.honour_award(
                actor=village_clerk,
                household=_household_with_head(
                    grid, f"赵{i}{n}明", id_number=f"4309031980010{n:02d}{i:03d}"
                ),
                title="文明家庭",
                year=2026,
                meeting=meeting,
            )

    award(1)
    client.get(url)
    with django_assert_num_queries(2):
        client.get(url)
    award(10)
    with django_assert_num_queries(2):
        client.get(url)
