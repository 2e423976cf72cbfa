"""The spreadsheet imports under hostile and valid files, through the service, the upload pages
and the ``import_roster`` / ``import_territory`` commands.

A file with any bad row is refused whole, every problem named in Chinese, nothing written. A
valid file (generated here: real 身份证号 with their check character, consistent birth dates
and genders, one 户主 per household, division codes under their parents) writes exactly its
rows — and importing it a second time changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from grids.import_views import UploadForm
from grids.models import Grid, Household, Resident, Township, Village
from grids.roster_import import (
    ROSTER_COLUMNS,
    TERRITORY_COLUMNS,
    ImportRejected,
    _clean,
    read_table,
    roster_import,
    territory_import,
)
from grids.validators import id_check_char
from tests.security.form_coverage import covers
from tests.security.hostile import (
    CJK,
    FAST,
    WEIRD,
    Effect,
    describe,
    rolled_back,
    table_state,
)

pytestmark = pytest.mark.django_db

# Codes that look like digits to str.isdigit() but are not ASCII: never a valid division code.
LOOKALIKE_CODES = ["４３０９０３１０６", "²" * 9, "٤٣٠٩٠٣١٠٦", "430903106\n"]
CELL = st.one_of(st.sampled_from(WEIRD[:-2] + LOOKALIKE_CODES), st.text(max_size=30))
GRIDS_TABLES = ["grids.Township", "grids.Village", "grids.Section", "grids.Grid"]
PEOPLE_TABLES = ["grids.Household", "grids.Resident", "grids.Representative"]


@pytest.fixture
def o(world):
    return world.obj


def csv_bytes(columns, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def table_of(columns, rows, name="t.csv"):
    return read_table(data=csv_bytes(columns, rows), filename=name, columns=columns)


def id_number(born: dt.date, sequence: int, male: bool) -> str:
    """A real 18-digit number: region, birth date, sequence (odd for men), check character."""
    sequence = sequence * 2 + (1 if male else 0)
    first17 = f"430903{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_check_char(first17)


# --- rosters -----------------------------------------------------------------------------------

GIVEN_NAMES = ["建国", "秀英", "桂兰", "志强", "春花", "德明", "玉梅", "国平"]


@st.composite
def valid_roster(draw, grid_code: str) -> list[list[str]]:
    """Households Q0..Qn of one grid, each with one 户主 and up to two members."""
    rows = []
    households = draw(st.integers(min_value=1, max_value=3))
    for h in range(households):
        members = draw(st.integers(min_value=1, max_value=3))
        names = draw(
            st.lists(st.sampled_from(GIVEN_NAMES), min_size=members, max_size=members, unique=True)
        )
        for m, given_name in enumerate(names):
            index = len(rows)
            male = draw(st.booleans())
            born = dt.date(1950, 1, 1) + dt.timedelta(days=977 * index + draw(st.integers(0, 900)))
            with_id = draw(st.booleans())
            cells = {
                "网格代码": grid_code,
                "户号": f"Q{h:02d}",
                "姓名": f"吴{given_name}",
                "与户主关系": "户主" if m == 0 else draw(st.sampled_from(["妻", "子", "女", "母"])),
                "性别": draw(st.sampled_from(["男" if male else "女", ""])),
                "出生日期": draw(st.sampled_from([born.isoformat(), f"{born:%Y/%m/%d}", ""]))
                if with_id
                else born.isoformat(),
                "身份证号": id_number(born, index, male) if with_id else "",
                "手机号": draw(st.sampled_from(["", f"139{index:08d}", f"139-{index:04d}-0000"])),
                "住址": draw(st.sampled_from(["", "长东湖村三组"])),
                "联户代表": "",
            }
            rows.append([cells[c] for c in ROSTER_COLUMNS])
    return rows


def hostile_roster_row(o):
    return st.fixed_dictionaries(
        {
            "网格代码": st.one_of(st.just(o.grid_a.code), st.just(o.grid_y.code), CELL),
            "户号": st.one_of(st.just("H90001"), CELL),
            "姓名": st.one_of(st.just("王五"), CELL),
            "与户主关系": st.one_of(st.just("户主"), CELL),
            "性别": st.one_of(st.just("男"), CELL),
            "出生日期": st.one_of(st.just("1970-01-01"), CELL),
            "身份证号": st.one_of(st.just("430903197001011239"), CELL),
            "手机号": st.one_of(st.just("13900001111"), CELL),
            "联户代表": st.one_of(st.just(""), CELL),
        }
    ).map(lambda row: [row.get(column, "") for column in ROSTER_COLUMNS])


def rosters(o):
    """A valid roster, hostile rows, or a valid roster with hostile rows mixed in."""
    valid = valid_roster(o.grid_a.code)
    hostile = st.lists(hostile_roster_row(o), min_size=1, max_size=3)
    return st.one_of(
        valid,
        hostile,
        st.tuples(valid, hostile).map(lambda pair: pair[0] + pair[1]),
    )


def expect_roster_written(o, rows, before: dict, after: dict) -> None:
    """Exactly the file's households and residents, each resident as typed."""
    rows = _data_rows(rows)
    new_numbers = {r[1] for r in rows} - set(before["numbers"])
    assert after["grids.Household"] - before["grids.Household"] == len(new_numbers)
    assert after["grids.Resident"] - before["grids.Resident"] <= len(rows)
    for row in rows:
        cells = dict(zip(ROSTER_COLUMNS, row, strict=True))
        match = Resident.objects.filter(
            household__village=o.village_x,
            household__number=cells["户号"].strip(),
            name=cells["姓名"].strip(),
        )
        if cells["身份证号"]:
            match = match.filter(id_number=cells["身份证号"].strip().upper())
        assert match.exists(), f"row not stored as typed: {cells}"
    for label in ("grids.Township", "grids.Village", "grids.Grid", "points.LedgerEntry"):
        assert after[label] == before[label], label


def roster_state(o) -> dict:
    state = table_state(watch=["grids.Household", "grids.Resident"])
    state["numbers"] = sorted(
        Household.objects.filter(village=o.village_x).values_list("number", flat=True)
    )
    return state


def import_twice(run, o, rows) -> None:
    """Run an import of ``rows``; if it is accepted, run it again: the second changes nothing
    but the record that it ran."""
    with rolled_back():
        before = roster_state(o)
        try:
            run(rows)
        except (ImportRejected, CommandError) as exc:
            assert CJK.search(str(exc)), exc
            issues = getattr(exc, "issues", [])
            assert all(CJK.search(str(issue)) for issue in issues)
            assert roster_state(o) == before, "a refused file left a partial write"
            return
        after = roster_state(o)
        expect_roster_written(o, rows, before, after)
        run(rows)
        again = roster_state(o)
        Effect(grows={"grids.AuditEntry": (0, 1)}).check(
            {k: v for k, v in after.items() if k != "numbers"},
            {k: v for k, v in again.items() if k != "numbers"},
        )


def test_roster_import_service(o, world):
    clerk = world.users["clerk_x"]

    def run(rows):
        table = table_of(ROSTER_COLUMNS, rows, "r.csv")
        roster_import(actor=clerk, village=o.village_x, table=table)

    @FAST
    @given(rosters(o))
    def prop(rows):
        import_twice(run, o, rows)

    prop()


def test_a_generated_roster_is_imported_whole(o, world):
    """The generator's own check: a valid roster is accepted, not refused."""
    clerk = world.users["clerk_x"]

    @FAST
    @given(valid_roster(o.grid_a.code))
    def prop(rows):
        with rolled_back():
            before = roster_state(o)
            report = roster_import(
                actor=clerk, village=o.village_x, table=table_of(ROSTER_COLUMNS, rows)
            )
            assert report.residents.created == len(rows)
            expect_roster_written(o, rows, before, roster_state(o))

    prop()


def test_import_roster_command(o, tmp_path_factory):
    directory = tmp_path_factory.mktemp("rosters")

    def run(rows):
        path = directory / "名单.csv"
        path.write_bytes(csv_bytes(ROSTER_COLUMNS, rows))
        call_command(
            "import_roster",
            str(path),
            village=o.village_x.code,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )

    @FAST
    @given(rosters(o))
    def prop(rows):
        import_twice(run, o, rows)

    prop()


def test_bad_id_number_in_roster_is_named_not_stored(o, world):
    values = dict.fromkeys(ROSTER_COLUMNS, "")
    values.update(
        {
            "网格代码": o.grid_a.code,
            "户号": "H90002",
            "姓名": "赵六",
            "与户主关系": "户主",
            "性别": "男",
            "出生日期": "1970-01-01",
            "身份证号": "43090319700101123X",
        }
    )
    table = table_of(ROSTER_COLUMNS, [[values[c] for c in ROSTER_COLUMNS]])
    with pytest.raises(ImportRejected) as caught:
        roster_import(actor=world.users["clerk_x"], village=o.village_x, table=table)
    assert "身份证号" in " ".join(str(i) for i in caught.value.issues)
    assert not Resident.objects.filter(name="赵六").exists()


# --- territory ---------------------------------------------------------------------------------

VILLAGE_NAMES = ["新建村", "荷花村", "桃源村", "白沙村"]
GRID_NAMES = ["一组", "二组", "三组", "四组"]


@st.composite
def valid_territory(draw, township: Township) -> list[list[str]]:
    rows = []
    villages = draw(st.lists(st.integers(300, 399), min_size=1, max_size=2, unique=True))
    for v, number in enumerate(villages):
        village_code = f"{township.code}{number}"
        section = draw(st.sampled_from(["", "东片", "西片"]))
        grids = draw(st.lists(st.integers(1, 999), min_size=1, max_size=3, unique=True))
        for g, grid_number in enumerate(grids):
            rows.append(
                [
                    township.code,
                    township.name,
                    village_code,
                    VILLAGE_NAMES[v],
                    section,
                    f"{village_code}{grid_number:03d}",
                    GRID_NAMES[g],
                ]
            )
    return rows


def territories(o):
    hostile = st.lists(
        st.lists(CELL, min_size=len(TERRITORY_COLUMNS), max_size=len(TERRITORY_COLUMNS)),
        min_size=1,
        max_size=3,
    )
    valid = valid_territory(o.township)
    return st.one_of(valid, hostile, st.tuples(valid, hostile).map(lambda p: p[0] + p[1]))


def territory_state() -> dict:
    return table_state(watch=GRIDS_TABLES)


def _data_rows(rows):
    """The rows the import reads: cells as it cleans them, blank rows skipped."""
    cleaned = [[_clean(cell) for cell in row] for row in rows]
    return [row for row in cleaned if any(row)]


def expect_territory_written(rows, before: dict, after: dict) -> None:
    rows = _data_rows(rows)
    villages = {(r[2].strip(), r[3].strip()) for r in rows}
    sections = {(r[2].strip(), r[4].strip()) for r in rows if r[4].strip()}
    for village_code, name in villages:
        assert Village.objects.filter(code=village_code, name=name).exists()
    for row in rows:
        assert Grid.objects.filter(
            code=row[5].strip(), name=row[6].strip(), village__code=row[2].strip()
        ).exists(), row
    assert after["grids.Grid"] - before["grids.Grid"] <= len(rows)
    assert after["grids.Village"] - before["grids.Village"] <= len(villages)
    assert after["grids.Section"] - before["grids.Section"] <= len(sections)
    for label in PEOPLE_TABLES:
        assert after[label] == before[label], label


def territory_twice(run, rows) -> None:
    with rolled_back():
        before = territory_state()
        try:
            run(rows)
        except (ImportRejected, CommandError) as exc:
            assert CJK.search(str(exc)), exc
            assert all(CJK.search(str(issue)) for issue in getattr(exc, "issues", []))
            assert territory_state() == before, describe(before, territory_state())
            return
        after = territory_state()
        expect_territory_written(rows, before, after)
        run(rows)
        assert territory_state() == after, "a second import changed: " + describe(
            after, territory_state()
        )


def test_territory_import_service(o, world):
    staff = world.users["township"]

    def run(rows):
        territory_import(
            actor=staff, table=table_of(TERRITORY_COLUMNS, rows), township_code=o.township.code
        )

    @FAST
    @given(territories(o))
    def prop(rows):
        territory_twice(run, rows)

    prop()


def test_a_generated_territory_is_imported_whole(o, world):
    staff = world.users["township"]

    @FAST
    @given(valid_territory(o.township))
    def prop(rows):
        with rolled_back():
            before = territory_state()
            report = territory_import(
                actor=staff, table=table_of(TERRITORY_COLUMNS, rows), township_code=o.township.code
            )
            assert report.grids.created == len(rows)
            expect_territory_written(rows, before, territory_state())

    prop()


def test_import_territory_command(o, tmp_path_factory):
    directory = tmp_path_factory.mktemp("territory")

    def run(rows):
        path = directory / "区划.csv"
        path.write_bytes(csv_bytes(TERRITORY_COLUMNS, rows))
        call_command("import_territory", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    @FAST
    @given(territories(o))
    def prop(rows):
        territory_twice(run, rows)

    prop()


def test_lookalike_digits_are_not_division_codes(o, world):
    """'４３０９０３１０６' (full-width) and '²²²²²²²²²' pass str.isdigit(); they are no code."""
    for code in LOOKALIKE_CODES:
        row = [code, "假镇", f"{code}201", "假村", "", f"{code}201001", "一组"]
        with pytest.raises(ImportRejected) as caught:
            territory_import(actor=None, table=table_of(TERRITORY_COLUMNS, [row]))
        assert "位数字" in str(caught.value), caught.value
    assert not Township.objects.exclude(code__regex=r"^[0-9]{9}$").exists()


# --- the upload pages --------------------------------------------------------------------------


@covers(UploadForm)
def test_import_upload_pages_take_any_bytes(o, client_for):
    clerk = client_for("clerk_x")
    township = client_for("township")

    @FAST
    @given(
        st.one_of(
            st.binary(max_size=2000),
            st.sampled_from(
                [b"PK\x03\x04garbage", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x00" * 100]
            ),
        ),
        st.sampled_from(["a.csv", "a.xlsx", "a.xls", "../../etc/passwd", "名单.CSV"]),
    )
    def prop(data, name):
        for client, url in (
            (clerk, reverse("grids:import_roster")),
            (township, reverse("grids:import_territory")),
        ):
            with rolled_back():
                before = table_state()
                response = client.post(url, {"file": SimpleUploadedFile(name, data)})
                assert response.status_code == 200
                assert table_state() == before
                assert CJK.search(response.content.decode())

    prop()


def test_roster_upload_then_confirm_writes_the_preview(o, client_for):
    """Upload → preview (writes nothing) → confirm with the signed token (writes the file);
    a tampered token is refused."""
    client = client_for("clerk_x")
    url = reverse("grids:import_roster")
    rows = [[o.grid_a.code, "Q77", "吴建国", "户主", "男", "1970-01-01", "", "", "", ""]]
    with rolled_back():
        before = table_state()
        preview = client.post(
            url, {"file": SimpleUploadedFile("名单.csv", csv_bytes(ROSTER_COLUMNS, rows))}
        )
        assert preview.status_code == 200 and table_state() == before
        pending = preview.context["pending"]
        forged = client.post(url, {"confirm": "1", "pending": pending[:-2] + "xx"})
        assert forged.status_code == 403 and table_state() == before
        confirmed = client.post(url, {"confirm": "1", "pending": pending})
        assert confirmed.status_code == 302
        Effect(
            grows={"grids.Household": 1, "grids.Resident": 1, "grids.AuditEntry": (1, 3)},
        ).check(before, table_state())
        assert Resident.objects.filter(name="吴建国", household__number="Q77").exists()
