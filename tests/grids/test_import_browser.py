"""A village clerk on a 360 px phone uploads a roster: sees the bad rows, fixes, previews, confirms."""

import pytest
from playwright.sync_api import expect

from grids.models import Resident, Role
from tests.factories import GridFactory, TownshipFactory, VillageFactory, user_with_scope
from tests.grids.factories import GRID_1, GRID_2, csv_bytes, roster_rows
from tests.screenshots import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_sees_errors_then_previews_and_confirms_on_phone(
    phone_page,  # noqa: F811
    live_server,
    browser_login,  # noqa: F811
    tmp_path,
    settings,
):
    settings.VAR_DIR = tmp_path
    village = VillageFactory(
        township=TownshipFactory(code="430903106"), code="430903106201", name="长东湖村"
    )
    GridFactory(village=village, code=GRID_1)
    GridFactory(village=village, code=GRID_2)
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village, username="clerk-import")
    bad_rows = roster_rows()
    bad_rows[3]["与户主关系"] = "父亲"
    (tmp_path / "bad.csv").write_bytes(csv_bytes(bad_rows, encoding="gb18030"))
    (tmp_path / "good.csv").write_bytes(csv_bytes(roster_rows(), encoding="gb18030"))

    browser_login(phone_page, clerk.username)
    phone_page.goto(f"{live_server.url}/staff/import/roster/")
    phone_page.set_input_files("input[name=file]", str(tmp_path / "bad.csv"))
    phone_page.click("text=上传并预览")

    issues = phone_page.locator("table.import-issues tbody tr")
    expect(issues).to_have_count(1)  # waits for the page the upload leads to
    assert "第5行" in issues.inner_text() and "没有户主" in issues.inner_text()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360

    phone_page.set_input_files("input[name=file]", str(tmp_path / "good.csv"))
    phone_page.click("text=上传并预览")
    assert "全部通过检查" in phone_page.locator("#preview-title").inner_text()
    shot(phone_page, "import-roster-preview-phone.png")
    assert Resident.objects.count() == 0

    phone_page.click("text=确认导入")

    assert "花名册导入完成" in phone_page.locator(".alert-success").inner_text()
    assert Resident.objects.filter(household__village=village).count() == 8
