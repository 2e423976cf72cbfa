"""import_roster: every encoding imports the same roster; every bad file leaves the database as it was."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from grids.models import AuditEntry, Household, Representative, Resident, Role, Scope, User
from tests.factories import GridFactory, HouseholdFactory, ResidentFactory, make_id_number
from tests.grids.factories import GRID_1, csv_bytes, roster_rows, write, xlsx_bytes

pytestmark = pytest.mark.django_db

VILLAGE = "430903106201"


@pytest.fixture
def grids(grid, other_grid):
    return grid, other_grid


def run_import(path, *extra) -> str:
    out = io.StringIO()
    call_command("import_roster", str(path), "--village", VILLAGE, *extra, stdout=out)
    return out.getvalue()


def run_failing_import(path) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "import_roster", str(path), "--village", VILLAGE, stderr=err, stdout=io.StringIO()
        )
    return str(excinfo.value) + "\n" + err.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Household, Resident, Representative, User, Scope, AuditEntry)
    }


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("roster.csv", lambda rows: csv_bytes(rows)),
        ("roster_bom.csv", lambda rows: csv_bytes(rows, encoding="utf-8-sig")),
        ("roster_gbk.csv", lambda rows: csv_bytes(rows, encoding="gb18030")),
        ("roster.xlsx", lambda rows: xlsx_bytes(rows)),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "xlsx"],
)
def test_roster_imports_households_residents_and_representative(grids, tmp_path, name, data):
    grid, other_grid = grids
    path = write(tmp_path, name, data(roster_rows()))

    output = run_import(path)

    assert "户：新增3" in output
    assert Household.objects.filter(village=grid.village).count() == 3
    assert Resident.objects.count() == 8
    first = Household.objects.get(number="0001")
    assert first.grid == grid and first.address == "一组3号"
    assert first.head.name == "刘建国"
    assert Household.objects.get(number="0003").grid == other_grid
    chen = Resident.objects.get(name="陈德明")
    assert chen.gender == "M" and chen.birth_date == dt.date(1955, 1, 9)  # both from the ID
    rep = Representative.objects.get()
    assert rep.resident.name == "刘志强" and rep.grid == grid
    assert rep.card_number == f"{GRID_1}-001"
    assert set(rep.households.values_list("number", flat=True)) == {"0001", "0002"}
    assert Household.objects.get(number="0003").representative is None
    assert rep.user.phone == "13907305678" and not rep.user.has_usable_password()
    assert Scope.objects.get(user=rep.user).role == Role.REPRESENTATIVE


def test_roster_import_writes_one_audit_entry_with_counts(grids, tmp_path):
    path = write(tmp_path, "roster.csv", csv_bytes(roster_rows()))
    before = AuditEntry.objects.count()

    run_import(path)

    entry = AuditEntry.objects.get(action="import_roster")
    assert AuditEntry.objects.count() == before + 1
    assert entry.after["file"] == "roster.csv"
    assert entry.after["residents"] == {"created": 8, "updated": 0, "unchanged": 0}
    assert entry.village_id == grids[0].village_id


def _mutate(column, value, index=0):
    def apply(rows):
        rows[index][column] = value
        return rows

    return apply


BAD_CASES = [
    ("bad_check_digit", _mutate("身份证号", make_id_number(11, dt.date(1962, 3, 15))[:-1] + "0"), "第2行【身份证号】身份证号校验位错误"),
    ("bad_id_length", _mutate("身份证号", "43090319620315"), "第2行【身份证号】身份证号应为18位"),
    ("unknown_grid", _mutate("网格代码", "430903106201099"), "第2行【网格代码】网格代码430903106201099不存在"),
    ("bad_grid_code", _mutate("网格代码", "4309"), "第2行【网格代码】网格代码应为15位数字"),
    ("duplicate_id", _mutate("身份证号", make_id_number(11, dt.date(1962, 3, 15)), index=1), "第3行【身份证号】身份证号与第2行重复"),
    ("no_head", _mutate("与户主关系", "父亲", index=3), "第5行【与户主关系】户号0002没有户主"),
    ("two_heads", _mutate("与户主关系", "户主", index=1), "第3行【与户主关系】户号0001有两个户主"),
    ("unknown_representative", _mutate("联户代表", "0001:张三"), "第2行【联户代表】联户代表“0001:张三”不在本名单中"),
    ("bad_representative_format", _mutate("联户代表", "刘志强"), "第2行【联户代表】应填写“户号:姓名”"),
    ("bad_date", _mutate("出生日期", "1962-13-40"), "第2行【出生日期】出生日期应为YYYY-MM-DD"),
    ("date_not_matching_id", _mutate("出生日期", "1962-03-16"), "第2行【出生日期】出生日期与身份证号不一致"),
    ("bad_phone", _mutate("手机号", "1380730"), "第2行【手机号】手机号应为以1开头的11位数字"),
    ("bad_gender", _mutate("性别", "M"), "第2行【性别】性别应填“男”或“女”"),
    ("missing_name", _mutate("姓名", ""), "第2行【姓名】不能为空"),
    ("same_name_without_id", _mutate("姓名", "陈德明", index=4), "第6行【姓名】本户已有同名村民"),
    ("household_in_two_grids", _mutate("网格代码", "430903106201002", index=1), "第3行【网格代码】同一户的网格代码不一致"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "mutate", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_roster_is_rejected_row_by_row_and_writes_nothing(
    grids, tmp_path, case, mutate, message
):
    path = write(tmp_path, "roster.csv", csv_bytes(mutate(roster_rows())))
    before = row_counts()

    report = run_failing_import(path)

    assert message in report
    assert "未写入任何数据" in report
    assert row_counts() == before


def test_grid_of_another_village_is_rejected(grids, other_village, tmp_path):
    foreign = GridFactory(village=other_village, code="430903106202001")
    rows = roster_rows()
    rows[0]["网格代码"] = foreign.code
    rows[1]["网格代码"] = foreign.code
    rows[2]["网格代码"] = foreign.code
    path = write(tmp_path, "roster.csv", csv_bytes(rows))
    before = row_counts()

    report = run_failing_import(path)

    assert "第2行【网格代码】网格430903106202001属于其他村（注湖港村）" in report
    assert row_counts() == before


def test_id_number_registered_in_another_village_is_rejected(grids, other_village, tmp_path):
    rows = roster_rows()
    ResidentFactory(
        household=HouseholdFactory(grid=GridFactory(village=other_village)),
        id_number=rows[6]["身份证号"],
    )
    path = write(tmp_path, "roster.csv", csv_bytes(rows))
    before = row_counts()

    report = run_failing_import(path)

    assert "第8行【身份证号】该身份证号已登记在其他村（注湖港村）的村民名下" in report
    assert row_counts() == before


def test_every_bad_row_is_reported_not_only_the_first(grids, tmp_path):
    rows = roster_rows()
    rows[0]["手机号"] = "123"
    rows[5]["身份证号"] = "123456789012345678"
    rows[7]["出生日期"] = "明天"
    path = write(tmp_path, "roster.csv", csv_bytes(rows))

    report = run_failing_import(path)

    assert "共3处错误" in report
    for place in ("第2行【手机号】", "第7行【身份证号】", "第9行【出生日期】"):
        assert place in report


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件为空"),
        ("网格代码,户号,姓名\n".encode(), "缺少必需的列“与户主关系”"),
        (csv_bytes([]), "文件中没有数据行"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "不支持旧版.xls格式"),
    ],
    ids=["empty", "missing-columns", "header-only", "old-xls"],
)
def test_unusable_file_is_rejected_and_writes_nothing(grids, tmp_path, data, message):
    path = write(tmp_path, "roster.csv", data)
    before = row_counts()

    report = run_failing_import(path)

    assert message in report
    assert row_counts() == before


def test_unknown_village_code_is_a_command_error(grids, tmp_path):
    path = write(tmp_path, "roster.csv", csv_bytes(roster_rows()))

    with pytest.raises(CommandError, match="村代码430903106299不存在"):
        call_command("import_roster", str(path), "--village", "430903106299")


def test_reimporting_the_same_file_changes_nothing(grids, tmp_path):
    path = write(tmp_path, "roster.csv", csv_bytes(roster_rows()))
    run_import(path)
    before = row_counts()
    snapshot = list(Resident.objects.order_by("pk").values())

    output = run_import(path)

    assert "户：新增0，更新0，未变3" in output
    assert "村民：新增0，更新0，未变8" in output
    assert "联户代表：新任0，已在任1" in output
    assert list(Resident.objects.order_by("pk").values()) == snapshot
    after = row_counts()
    assert after.pop("AuditEntry") == before.pop("AuditEntry") + 1  # the run itself is audited
    assert after == before


def test_changed_file_updates_in_place_without_duplicates(grids, tmp_path):
    grid, other_grid = grids
    run_import(write(tmp_path, "v1.csv", csv_bytes(roster_rows())))
    ids_before = dict(Resident.objects.values_list("name", "pk"))
    rows = roster_rows()
    rows[1]["手机号"] = "13600000000"  # 周桂兰, matched by ID number
    rows[4]["出生日期"] = "1957-07-01"  # 李秀英, no ID number: matched by (户号, 姓名)
    rows[7]["户号"] = "0002"  # 王浩然 moves from 0003 to 0002 (no ID: a new person there)
    rows[7]["网格代码"] = GRID_1
    rows[6]["户号"], rows[6]["网格代码"] = "0002", GRID_1  # 赵丽 moves, matched by ID number
    rows.append(dict(rows[4], 姓名="陈小明", 与户主关系="孙子", 出生日期="2019-05-01"))

    output = run_import(write(tmp_path, "v2.csv", csv_bytes(rows)))

    assert "村民：新增2，更新3，未变4" in output
    assert Resident.objects.get(name="周桂兰").phone == "13600000000"
    assert Resident.objects.get(name="李秀英").birth_date == dt.date(1957, 7, 1)
    zhao = Resident.objects.get(name="赵丽")
    assert zhao.pk == ids_before["赵丽"] and zhao.household.number == "0002"
    assert Resident.objects.filter(name="赵丽").count() == 1
    assert Resident.objects.get(pk=ids_before["周桂兰"]).name == "周桂兰"
    assert Household.objects.count() == 3
    # 王浩然 without an ID number in another household is another person; the old row stays.
    assert Resident.objects.filter(name="王浩然").count() == 2


def test_empty_cell_keeps_the_stored_value(grids, tmp_path):
    run_import(write(tmp_path, "v1.csv", csv_bytes(roster_rows())))
    rows = roster_rows()
    rows[0]["手机号"] = ""
    rows[0]["住址"] = ""

    output = run_import(write(tmp_path, "v2.csv", csv_bytes(rows)))

    assert "村民：新增0，更新0，未变8" in output
    assert Resident.objects.get(name="刘建国").phone == "13807301234"
    assert Household.objects.get(number="0001").address == "一组3号"


def test_dry_run_reports_counts_and_writes_nothing(grids, tmp_path):
    path = write(tmp_path, "roster.csv", csv_bytes(roster_rows()))
    before = row_counts()

    output = run_import(path, "--dry-run")

    assert "检查通过（未写入）" in output
    assert "村民：新增8" in output
    assert row_counts() == before


def test_new_representative_in_same_grid_gets_next_card_number(grids, tmp_path):
    run_import(write(tmp_path, "v1.csv", csv_bytes(roster_rows())))
    rows = roster_rows()
    rows[5]["联户代表"] = "0003:王海波"

    output = run_import(write(tmp_path, "v2.csv", csv_bytes(rows)))

    assert "联户代表：新任1，已在任1" in output
    wang = Representative.objects.get(resident__name="王海波")
    assert wang.card_number == "430903106201002-001"
    assert Household.objects.get(number="0003").representative == wang


def test_representative_sharing_a_staff_phone_is_appointed_without_login(
    grids, tmp_path, village_clerk
):
    village_clerk.phone = "13907305678"
    village_clerk.save()
    path = write(tmp_path, "roster.csv", csv_bytes(roster_rows()))

    output = run_import(path)

    rep = Representative.objects.get()
    assert rep.user is None
    assert Scope.objects.get(user=village_clerk).role == Role.VILLAGE_STAFF
    assert "暂不开通手机登录" in output


def test_card_number_typed_with_lookalike_digits_does_not_break_the_next_import(grids, tmp_path):
    # Given a card number typed by hand in the admin with a superscript digit after the dash
    run_import(write(tmp_path, "v1.csv", csv_bytes(roster_rows())))
    assert Representative.objects.filter(resident__name="刘志强").update(
        card_number="430903106201002-²"
    )
    rows = roster_rows()
    rows[5]["联户代表"] = "0003:王海波"

    # When the next roster appoints a new representative in that grid
    output = run_import(write(tmp_path, "v2.csv", csv_bytes(rows)))

    # Then the import numbers the new card from the well-formed ones instead of failing
    assert "联户代表：新任1" in output
    assert Representative.objects.get(resident__name="王海波").card_number.endswith("-001")


@pytest.mark.parametrize("code", ["４３０９０３１０６２０１００２", "²" * 15, "٤٣٠٩٠٣١٠٦٢٠١٠٠٢"])
def test_grid_code_in_lookalike_digits_is_named_in_chinese(grids, tmp_path, code):
    rows = roster_rows()
    rows[0]["网格代码"] = code

    output = run_failing_import(write(tmp_path, "roster.csv", csv_bytes(rows)))

    assert "第2行【网格代码】网格代码应为15位数字" in output
