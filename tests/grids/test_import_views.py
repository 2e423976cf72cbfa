"""The staff upload pages: preview (nothing written), confirm (imported), and who may use them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grids.models import Grid, Household, Resident, Role
from grids.roster_import import TERRITORY_COLUMNS
from tests.factories import user_with_scope
from tests.grids.factories import csv_bytes, roster_rows, territory_rows

pytestmark = pytest.mark.django_db

ROSTER_URL = reverse("grids:import_roster")
TERRITORY_URL = reverse("grids:import_territory")


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture(autouse=True)
def pending_dir(settings, tmp_path):
    """Previewed files wait in VAR_DIR/imports; keep the tests' copies out of the real one."""
    settings.VAR_DIR = tmp_path
    return tmp_path / "imports"


@pytest.fixture
def grids(grid, other_grid):
    return grid, other_grid


def preview(client, village, data: bytes, name: str = "roster.csv"):
    return client.post(ROSTER_URL, {"village": village.pk, "file": upload(name, data)})


def test_clerk_preview_writes_nothing_then_confirm_imports(
    grids, village, village_clerk, login, pending_dir
):
    client = login(village_clerk)

    response = preview(client, village, csv_bytes(roster_rows()))

    assert response.status_code == 200
    assert response.context["report"].residents.created == 8
    assert Resident.objects.count() == 0
    assert len(list(pending_dir.iterdir())) == 1
    pending = response.context["pending"]

    confirmed = client.post(ROSTER_URL, {"village": village.pk, "pending": pending, "confirm": "1"})

    assert confirmed.status_code == 302
    assert Resident.objects.count() == 8
    assert Household.objects.filter(village=village).count() == 3
    assert not list(pending_dir.iterdir())  # the file with ID numbers does not linger


def test_preview_lists_errors_with_row_and_column(grids, village, village_clerk, login):
    rows = roster_rows()
    rows[2]["身份证号"] = "430903198811200270"
    rows[4]["手机号"] = "12345"

    response = preview(login(village_clerk), village, csv_bytes(rows, encoding="gb18030"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "第4行" in content and "身份证号校验位错误" in content
    assert "第6行" in content and "手机号应为以1开头的11位数字" in content
    assert "pending" not in response.context
    assert Resident.objects.count() == 0


def test_clerk_of_another_village_gets_404(grids, village, other_village, login):
    other_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)

    response = preview(login(other_clerk), village, csv_bytes(roster_rows()))

    assert response.status_code == 404
    assert Resident.objects.count() == 0


def test_representative_and_stranger_get_403(grids, village, representative, stranger, login):
    for user in (representative.user, stranger):
        client = login(user)
        assert client.get(ROSTER_URL).status_code == 403
        assert preview(client, village, csv_bytes(roster_rows())).status_code == 403
        assert client.get(TERRITORY_URL).status_code == 403


def test_village_clerk_cannot_import_territory(village_clerk, login):
    assert login(village_clerk).get(TERRITORY_URL).status_code == 403


def test_confirm_token_of_another_user_is_refused(grids, village, village_clerk, login):
    response = preview(login(village_clerk), village, csv_bytes(roster_rows()))
    colleague = user_with_scope(Role.VILLAGE_STAFF, village=village)

    confirmed = login(colleague).post(
        ROSTER_URL, {"village": village.pk, "pending": response.context["pending"], "confirm": "1"}
    )

    assert confirmed.status_code == 403
    assert Resident.objects.count() == 0


def test_township_staff_imports_territory_of_own_township(township, township_staff, login):
    client = login(township_staff)
    data = csv_bytes(territory_rows(), columns=TERRITORY_COLUMNS)

    response = client.post(TERRITORY_URL, {"file": upload("territory.csv", data)})
    assert response.status_code == 200
    assert response.context["report"].grids.created == 3
    assert Grid.objects.count() == 0

    confirmed = client.post(TERRITORY_URL, {"pending": response.context["pending"], "confirm": "1"})

    assert confirmed.status_code == 302
    assert Grid.objects.count() == 3


def test_township_staff_preview_of_another_township_shows_errors(township, township_staff, login):
    rows = territory_rows()
    for row in rows:
        row["乡镇代码"] = "430903107"
        row["村代码"] = "430903107" + row["村代码"][9:]
        row["网格代码"] = row["村代码"] + row["网格代码"][12:]

    response = login(township_staff).post(
        TERRITORY_URL,
        {"file": upload("t.csv", csv_bytes(rows, columns=TERRITORY_COLUMNS))},
    )

    assert "只能导入本乡镇（430903106）的区划" in response.content.decode()
    assert Grid.objects.count() == 0


def test_non_spreadsheet_upload_is_refused_by_the_form(grids, village, village_clerk, login):
    response = preview(login(village_clerk), village, b"x", name="roster.pdf")

    assert response.status_code == 200
    assert "请上传.csv或.xlsx文件" in response.content.decode()


def test_upload_page_query_count_is_fixed(
    grids, village, village_clerk, login, django_assert_max_num_queries
):
    client = login(village_clerk)
    client.get(ROSTER_URL)  # session warm-up

    with django_assert_max_num_queries(8):
        response = client.get(ROSTER_URL)

    assert response.status_code == 200
    assert village.name in response.content.decode()


def test_the_import_pages_are_in_the_navigation_of_those_who_may_use_them(
    village_clerk, township_staff, representative, login
):
    pages = {
        "township": login(township_staff).get(reverse("staff:index"), follow=True),
        "clerk": login(village_clerk).get(reverse("staff:index"), follow=True),
        "rep": login(representative.user).get(reverse("rep:home")),
    }
    links = {
        who: (f'href="{ROSTER_URL}"' in page.text, f'href="{TERRITORY_URL}"' in page.text)
        for who, page in pages.items()
    }
    assert links == {
        "township": (True, True),
        "clerk": (True, False),
        "rep": (False, False),
    }
