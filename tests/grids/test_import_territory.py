"""import_territory: the township's tree from one sheet, through the audited services."""

import io

import pytest
from django.core.management import CommandError, call_command

from grids.models import AuditEntry, Grid, Section, Township, Village
from grids.roster_import import TERRITORY_COLUMNS, ImportRejected, read_table, territory_import
from tests.grids.factories import csv_bytes, territory_rows, write, xlsx_bytes

pytestmark = pytest.mark.django_db


def run_import(path) -> str:
    out = io.StringIO()
    call_command("import_territory", str(path), stdout=out)
    return out.getvalue()


def tree_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Township, Village, Section, Grid, AuditEntry)}


@pytest.mark.parametrize("kind", ["csv-gb18030", "xlsx"])
def test_territory_import_builds_the_tree_and_audits_each_object(db, tmp_path, kind):
    rows = territory_rows()
    data = (
        csv_bytes(rows, columns=TERRITORY_COLUMNS, encoding="gb18030")
        if kind == "csv-gb18030"
        else xlsx_bytes(rows, columns=TERRITORY_COLUMNS)
    )
    path = write(tmp_path, "territory." + kind.split("-")[0], data)

    output = run_import(path)

    assert "网格：新增3" in output
    village = Village.objects.get(code="430903106201")
    assert village.name == "长东湖村" and village.township.name == "欧江岔镇"
    assert Grid.objects.get(code="430903106201002").section.name == "东片"
    assert Grid.objects.get(code="430903106202001").section is None
    created = AuditEntry.objects.filter(action="create", object_type="grids.grid").count()
    assert created == 3


def test_reimporting_territory_changes_nothing_and_renames_update_in_place(db, tmp_path):
    path = write(tmp_path, "t.csv", csv_bytes(territory_rows(), columns=TERRITORY_COLUMNS))
    run_import(path)
    before = tree_counts()

    assert "网格：新增0，更新0，未变3" in run_import(path)
    assert tree_counts() == before

    rows = territory_rows()
    rows[0]["网格名称"] = "湖东网格"
    rows[1]["村名称"] = rows[0]["村名称"] = "长东湖社区"
    output = run_import(write(tmp_path, "t2.csv", csv_bytes(rows, columns=TERRITORY_COLUMNS)))

    assert "村：新增0，更新1，未变1" in output
    assert "网格：新增0，更新1，未变2" in output
    assert Grid.objects.get(code="430903106201001").name == "湖东网格"
    assert Village.objects.get(code="430903106201").name == "长东湖社区"
    assert Village.objects.count() == before["Village"]


@pytest.mark.parametrize(
    ("column", "value", "index", "message"),
    [
        ("网格代码", "43090310620100", 0, "第2行【网格代码】网格代码应为15位数字"),
        ("网格代码", "430903106209001", 0, "第2行【网格代码】网格代码应以村代码开头"),
        ("村代码", "430903107201", 0, "第2行【村代码】村代码应以乡镇代码开头"),
        ("村名称", "长西湖村", 1, "第3行【村名称】与第2行的名称“长东湖村”不一致"),
        ("网格代码", "430903106201001", 1, "第3行【网格代码】与第2行重复"),
        ("网格名称", "", 2, "第4行【网格名称】不能为空"),
    ],
)
def test_bad_territory_row_is_rejected_and_nothing_written(
    db, tmp_path, column, value, index, message
):
    rows = territory_rows()
    rows[index][column] = value
    path = write(tmp_path, "t.csv", csv_bytes(rows, columns=TERRITORY_COLUMNS))
    err = io.StringIO()

    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_territory", str(path), stderr=err)

    assert message in err.getvalue()
    assert tree_counts() == {m: 0 for m in tree_counts()}


def test_township_staff_may_only_import_their_own_township(db):
    rows = territory_rows()
    table = read_table(
        data=csv_bytes(rows, columns=TERRITORY_COLUMNS), filename="t.csv", columns=TERRITORY_COLUMNS
    )

    with pytest.raises(ImportRejected) as excinfo:
        territory_import(actor=None, table=table, township_code="430903107")

    assert excinfo.value.issues[0].column == "乡镇代码"
    assert "只能导入本乡镇（430903107）" in excinfo.value.issues[0].message
    assert Township.objects.count() == 0


def test_territory_dry_run_counts_but_writes_nothing(db):
    table = read_table(
        data=csv_bytes(territory_rows(), columns=TERRITORY_COLUMNS),
        filename="t.csv",
        columns=TERRITORY_COLUMNS,
    )

    report = territory_import(actor=None, table=table, dry_run=True)

    assert report.grids.created == 3 and report.villages.created == 2
    assert tree_counts() == {m: 0 for m in tree_counts()}
