"""Import the township's spreadsheets: the territory (乡镇/村/片区/网格) and a village's roster
(户/村民/联户代表).

Both imports read the whole file, validate every row in memory and write nothing unless every
row is valid; the writes then happen in one transaction. The roster import is built for a
township's whole population (12,310 households, ~40,000 residents): existing rows are loaded in
a handful of queries, new rows are written with ``bulk_create`` and changed rows with one
prepared UPDATE per row sent through ``executemany`` (see ``_update_rows``).
The format is documented in ``docs/import.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    Grid,
    Household,
    Representative,
    Resident,
    Role,
    Scope,
    Section,
    Township,
    Village,
)
from .services import (
    PHONE_LOGIN_TAKEN_MESSAGE,
    audit_record,
    grid_create,
    model_update,
    phone_login_taken,
    section_create,
    township_create,
    village_create,
)
from .validators import birth_date_from_id, validate_digits, validate_id_number, validate_phone

TERRITORY_COLUMNS = ("乡镇代码", "乡镇名称", "村代码", "村名称", "片区", "网格代码", "网格名称")
ROSTER_COLUMNS = (
    "网格代码",
    "户号",
    "姓名",
    "与户主关系",
    "性别",
    "出生日期",
    "身份证号",
    "手机号",
    "住址",
    "联户代表",
)
HEAD_RELATION = "户主"
GENDERS = {"男": Resident.Gender.MALE, "女": Resident.Gender.FEMALE}

# 2,000 residents (8 columns) is 16,000 bind parameters per INSERT: well under PostgreSQL's 65,535
# limit, yet 40,000 residents need only 20 round trips. Django lowers it further on SQLite.
CREATE_BATCH = 2000
# Rows per executemany call: bounds the parameter list held in memory, nothing more.
UPDATE_BATCH = 1000
# IN (...) lookups: PostgreSQL takes 20,000 values in one statement (one scan instead of 45);
# SQLite is held to Django's 999-parameter limit.
LOOKUP_CHUNK = 20000
MAX_FILE_BYTES = 20 * 1024 * 1024
DATE_PATTERN = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


@dataclass(frozen=True)
class RowIssue:
    """One problem in the file: spreadsheet row (the header is row 1), column, Chinese message."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        place = _("第%(row)d行") % {"row": self.row} if self.row else _("文件")
        column = f"【{self.column}】" if self.column else ""
        return f"{place}{column}{self.message}"


class ImportRejected(Exception):
    """The file is not imported; ``issues`` says every reason, row by row."""

    def __init__(self, issues: list[RowIssue]):
        self.issues = sorted(issues, key=lambda issue: (issue.row or 0, issue.column))
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass
class Table:
    """A spreadsheet's data rows keyed by column name, each with its row number."""

    name: str
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


# --- reading files ---------------------------------------------------------------------------


def read_table(*, data: bytes, filename: str, columns: tuple[str, ...]) -> Table:
    """Parse CSV (UTF-8 with or without BOM, or GB18030/GBK) or XLSX into rows keyed by ``columns``.

    Raises ImportRejected for an empty or unreadable file or missing columns.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ImportRejected([RowIssue(None, "", _("文件超过20MB，请分村导入"))])
    if not data.strip():
        raise ImportRejected([RowIssue(None, "", _("文件为空"))])
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportRejected(
            [RowIssue(None, "", _("不支持旧版.xls格式，请在Excel中另存为.xlsx或CSV"))]
        )
    if suffix == ".xlsx" or data[:4] == b"PK\x03\x04":
        records = _xlsx_records(data)
    else:
        records = _csv_records(data)
    if any("\x00" in cell for record in records for cell in record):
        # PostgreSQL cannot store NUL in text; refuse the file rather than fail on the write.
        raise ImportRejected(
            [RowIssue(None, "", _("文件中含有空字符(NUL)，请另存为CSV或XLSX后重试"))]
        )
    return _table_from_records(records, name=Path(filename).name, columns=columns)


def read_table_from_path(path: str | Path, *, columns: tuple[str, ...]) -> Table:
    path = Path(path)
    return read_table(data=path.read_bytes(), filename=path.name, columns=columns)


def _csv_records(data: bytes) -> list[list[str]]:
    # UTF-8 is tried first: GB18030 decodes almost any byte string, UTF-8 rarely decodes GBK.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRejected(
            [RowIssue(None, "", _("无法识别文件编码，请保存为UTF-8或GB18030（GBK）编码的CSV"))]
        )
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportRejected(
            [RowIssue(None, "", _("CSV格式错误：%(error)s") % {"error": exc})]
        ) from exc


def _xlsx_records(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        raise ImportRejected(
            [RowIssue(None, "", _("无法读取Excel文件，请确认是.xlsx格式"))]
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        # Excel stores codes typed as numbers as floats; 430903106201001.0 means the code.
        return str(int(value))
    return str(value)


def _clean(value: str) -> str:
    return value.replace("\u3000", " ").replace("\ufeff", "").strip()


def _table_from_records(records: list[list[str]], *, name: str, columns: tuple[str, ...]) -> Table:
    if not records or not any(_clean(cell) for cell in records[0]):
        raise ImportRejected([RowIssue(None, "", _("文件为空或第1行不是表头"))])
    header = [_clean(cell) for cell in records[0]]
    missing = [column for column in columns if column not in header]
    if missing:
        raise ImportRejected(
            [
                RowIssue(1, column, _("缺少必需的列“%(column)s”") % {"column": column})
                for column in missing
            ]
        )
    positions = {column: header.index(column) for column in columns}
    rows = []
    for index, record in enumerate(records[1:], start=2):
        cells = {
            column: _clean(record[pos]) if pos < len(record) else ""
            for column, pos in positions.items()
        }
        if any(cells.values()):
            rows.append((index, cells))
    if not rows:
        raise ImportRejected([RowIssue(None, "", _("文件中没有数据行"))])
    return Table(name=name, rows=rows)


def _update_rows(model, field_names: list[str], objects: list) -> None:
    """One ``UPDATE … WHERE id = %s`` per object, sent with ``executemany``.

    Django's ``bulk_update`` builds a CASE WHEN expression per field and row in Python; for
    12,310 households that alone took ~40 s. A prepared statement per row costs ~0.1 ms locally.
    """
    if not objects:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in field_names]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    # Identifiers come from the model's own metadata; values are parameters.
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        for chunk in _chunks(params, UPDATE_BATCH):
            if connection.vendor == "postgresql":
                from psycopg2.extras import execute_batch

                # 100 statements per round trip instead of one.
                execute_batch(cursor.cursor, sql, chunk, page_size=100)
            else:
                cursor.executemany(sql, chunk)


def _chunks(items: list, size: int | None = None):
    if size is None:
        size = min(LOOKUP_CHUNK, (connection.features.max_query_params or LOOKUP_CHUNK) - 9)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- territory -------------------------------------------------------------------------------


@dataclass
class TerritoryReport:
    source: str
    rows: int
    dry_run: bool
    townships: Tally = field(default_factory=Tally)
    villages: Tally = field(default_factory=Tally)
    sections: Tally = field(default_factory=Tally)
    grids: Tally = field(default_factory=Tally)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "dry_run": self.dry_run,
            "townships": self.townships.as_dict(),
            "villages": self.villages.as_dict(),
            "sections": self.sections.as_dict(),
            "grids": self.grids.as_dict(),
        }


@dataclass(frozen=True)
class _TerritoryRow:
    row: int
    township_code: str
    township_name: str
    village_code: str
    village_name: str
    section: str
    grid_code: str
    grid_name: str


def territory_import(
    *, actor, table: Table, township_code: str | None = None, dry_run: bool = False
) -> TerritoryReport:
    """Create or update townships, villages, sections and grids from a territory table.

    ``township_code`` limits the file to one township (township staff import their own only).
    Each created or changed object goes through the grids services and gets its own audit entry:
    a township has tens of villages and hundreds of grids, so per-object writes are cheap.
    Raises ImportRejected, writing nothing, unless every row is valid.
    """
    rows, issues = _territory_rows(table, township_code)
    report = TerritoryReport(source=table.name, rows=len(table.rows), dry_run=dry_run)
    with transaction.atomic():
        issues += _territory_conflicts(rows)
        if issues:
            raise ImportRejected(issues)
        _territory_write(actor=actor, rows=rows, report=report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _territory_rows(
    table: Table, township_code: str | None
) -> tuple[list[_TerritoryRow], list[RowIssue]]:
    issues: list[RowIssue] = []
    rows: list[_TerritoryRow] = []
    names: dict[tuple[str, str], tuple[str, int]] = {}
    grid_rows: dict[str, int] = {}
    for number, cells in table.rows:
        row_issues: list[RowIssue] = []
        codes = {}
        for column, length in (("乡镇代码", 9), ("村代码", 12), ("网格代码", 15)):
            try:
                codes[column] = validate_digits(cells[column], length, column)
            except ValidationError as exc:
                row_issues.append(RowIssue(number, column, exc.messages[0]))
        for column in ("乡镇名称", "村名称", "网格名称", "片区"):
            if column != "片区" and not cells[column]:
                row_issues.append(RowIssue(number, column, _("不能为空")))
            elif len(cells[column]) > 50:
                row_issues.append(RowIssue(number, column, _("不能超过50个字")))
        if len(codes) == 3:
            if not codes["村代码"].startswith(codes["乡镇代码"]):
                row_issues.append(RowIssue(number, "村代码", _("村代码应以乡镇代码开头")))
            if not codes["网格代码"].startswith(codes["村代码"]):
                row_issues.append(RowIssue(number, "网格代码", _("网格代码应以村代码开头")))
            if township_code and codes["乡镇代码"] != township_code:
                row_issues.append(
                    RowIssue(
                        number,
                        "乡镇代码",
                        _("只能导入本乡镇（%(code)s）的区划") % {"code": township_code},
                    )
                )
        for kind, code_column, name_column in (
            ("township", "乡镇代码", "乡镇名称"),
            ("village", "村代码", "村名称"),
        ):
            code = codes.get(code_column)
            if code and cells[name_column]:
                first = names.setdefault((kind, code), (cells[name_column], number))
                if first[0] != cells[name_column]:
                    row_issues.append(
                        RowIssue(
                            number,
                            name_column,
                            _("与第%(row)d行的名称“%(name)s”不一致")
                            % {"row": first[1], "name": first[0]},
                        )
                    )
        grid_code = codes.get("网格代码")
        if grid_code:
            first_row = grid_rows.setdefault(grid_code, number)
            if first_row != number:
                row_issues.append(
                    RowIssue(number, "网格代码", _("与第%(row)d行重复") % {"row": first_row})
                )
        issues += row_issues
        if not row_issues:
            rows.append(
                _TerritoryRow(
                    row=number,
                    township_code=codes["乡镇代码"],
                    township_name=cells["乡镇名称"],
                    village_code=codes["村代码"],
                    village_name=cells["村名称"],
                    section=cells["片区"],
                    grid_code=grid_code,
                    grid_name=cells["网格名称"],
                )
            )
    return rows, issues


def _territory_conflicts(rows: list[_TerritoryRow]) -> list[RowIssue]:
    """Rows that contradict the database: a code already filed under another parent."""
    issues = []
    villages = {
        v.code: v
        for v in Village.objects.filter(code__in={r.village_code for r in rows}).select_related(
            "township"
        )
    }
    grids = {
        g.code: g
        for g in Grid.objects.filter(code__in={r.grid_code for r in rows}).select_related("village")
    }
    for row in rows:
        village = villages.get(row.village_code)
        if village is not None and village.township.code != row.township_code:
            issues.append(
                RowIssue(
                    row.row,
                    "村代码",
                    _("该村已登记在其他乡镇（%(name)s）") % {"name": village.township.name},
                )
            )
        grid = grids.get(row.grid_code)
        if grid is not None and grid.village.code != row.village_code:
            issues.append(
                RowIssue(
                    row.row,
                    "网格代码",
                    _("该网格已登记在其他村（%(name)s）") % {"name": grid.village.name},
                )
            )
    return issues


def _territory_write(*, actor, rows: list[_TerritoryRow], report: TerritoryReport) -> None:
    townships = {
        t.code: t for t in Township.objects.filter(code__in={r.township_code for r in rows})
    }
    villages = {v.code: v for v in Village.objects.filter(code__in={r.village_code for r in rows})}
    sections = {
        (s.village_id, s.name): s for s in Section.objects.filter(village__in=villages.values())
    }
    grids = {g.code: g for g in Grid.objects.filter(code__in={r.grid_code for r in rows})}
    seen_townships: set[str] = set()
    seen_villages: set[str] = set()
    seen_sections: set[tuple[int, str]] = set()
    for row in sorted(rows, key=lambda r: r.grid_code):
        try:
            township = _territory_upsert(
                actor=actor,
                existing=townships.get(row.township_code),
                data={"name": row.township_name},
                create=lambda row=row: township_create(
                    actor=actor, code=row.township_code, name=row.township_name
                ),
                tally=report.townships,
                first_time=row.township_code not in seen_townships,
            )
            townships[row.township_code] = township
            seen_townships.add(row.township_code)
            village = _territory_upsert(
                actor=actor,
                existing=villages.get(row.village_code),
                data={"name": row.village_name},
                create=lambda row=row, township=township: village_create(
                    actor=actor, township=township, code=row.village_code, name=row.village_name
                ),
                tally=report.villages,
                first_time=row.village_code not in seen_villages,
                village_id=villages[row.village_code].pk if row.village_code in villages else None,
            )
            villages[row.village_code] = village
            seen_villages.add(row.village_code)
            section = None
            if row.section:
                key = (village.pk, row.section)
                section = sections.get(key)
                if section is None:
                    section = section_create(actor=actor, village=village, name=row.section)
                    sections[key] = section
                    report.sections.created += 1
                elif key not in seen_sections:
                    report.sections.unchanged += 1
                seen_sections.add(key)
            grid = grids.get(row.grid_code)
            if grid is None:
                grid_create(
                    actor=actor,
                    village=village,
                    code=row.grid_code,
                    name=row.grid_name,
                    section=section,
                )
                report.grids.created += 1
            elif grid.name != row.grid_name or grid.section_id != (section.pk if section else None):
                model_update(
                    actor=actor,
                    instance=grid,
                    data={"name": row.grid_name, "section": section},
                    village_id=village.pk,
                )
                report.grids.updated += 1
            else:
                report.grids.unchanged += 1
        except ValidationError as exc:
            # The checks above mirror the services'; this catches what only the database knows.
            raise ImportRejected([RowIssue(row.row, "", "；".join(exc.messages))]) from exc


def _territory_upsert(
    *,
    actor,
    existing,
    data: dict[str, str],
    create,
    tally: Tally,
    first_time: bool,
    village_id=None,
):
    if existing is None:
        tally.created += 1
        return create()
    if all(getattr(existing, name) == value for name, value in data.items()):
        if first_time:
            tally.unchanged += 1
        return existing
    tally.updated += 1
    return model_update(actor=actor, instance=existing, data=data, village_id=village_id)


# --- roster ----------------------------------------------------------------------------------


@dataclass
class RosterReport:
    source: str
    village_code: str
    village_name: str
    rows: int
    dry_run: bool
    households: Tally = field(default_factory=Tally)
    residents: Tally = field(default_factory=Tally)
    representatives: Tally = field(default_factory=Tally)
    logins_created: int = 0
    warnings: list[RowIssue] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "village": self.village_code,
            "rows": self.rows,
            "dry_run": self.dry_run,
            "households": self.households.as_dict(),
            "residents": self.residents.as_dict(),
            "representatives": self.representatives.as_dict(),
            "logins_created": self.logins_created,
            "warnings": len(self.warnings),
        }


@dataclass
class _RosterRow:
    row: int
    grid_code: str
    number: str
    name: str
    relation: str
    gender: str
    birth_date: dt.date | None
    id_number: str
    phone: str
    address: str
    rep_ref: tuple[str, str] | None


@dataclass
class _HouseholdPlan:
    number: str
    rows: list[_RosterRow]
    grid_id: int = 0
    address: str = ""
    head_row: _RosterRow | None = None
    rep_row: _RosterRow | None = None


RESIDENT_FIELDS = ("name", "relation", "gender", "birth_date", "id_number", "phone")


def roster_import(*, actor, village: Village, table: Table, dry_run: bool = False) -> RosterReport:
    """Create or update a village's households, residents and representatives from a roster.

    Validates every row first; raises ImportRejected (nothing written) unless all are valid.
    Matches residents by ID number, else by (户号, 姓名); an empty cell never erases a stored
    value. Writes in bulk and records one AuditEntry for the whole run (action
    ``import_roster``) rather than one per resident.
    """
    report = RosterReport(
        source=table.name,
        village_code=village.code,
        village_name=village.name,
        rows=len(table.rows),
        dry_run=dry_run,
    )
    with transaction.atomic():
        # Two imports of the same village wait for each other instead of racing on 户号.
        Village.objects.select_for_update().filter(pk=village.pk).exists()
        plan = _RosterPlan(village=village, table=table, report=report)
        plan.validate()
        plan.match()
        if not dry_run:
            try:
                plan.write()
            except IntegrityError as exc:
                raise ImportRejected(
                    [RowIssue(None, "", _("数据在导入过程中被其他人修改，请重新导入"))]
                ) from exc
            audit_record(
                actor=actor,
                action="import_roster",
                instance=village,
                after={"file": table.name, **report.as_dict()},
                village_id=village.pk,
            )
    return report


def _parse_date(text: str) -> dt.date:
    match = DATE_PATTERN.match(text)
    if not match:
        raise ValueError
    return dt.date(*(int(part) for part in match.groups()))


def _parse_roster_row(number: int, cells: dict[str, str], issues: list[RowIssue]) -> _RosterRow:
    def bad(column: str, message: str) -> None:
        issues.append(RowIssue(number, column, message))

    grid_code = cells["网格代码"]
    if not grid_code:
        bad("网格代码", _("不能为空"))
    elif not (len(grid_code) == 15 and grid_code.isascii() and grid_code.isdigit()):
        bad("网格代码", _("网格代码应为15位数字"))
    household_number = cells["户号"]
    if not household_number:
        bad("户号", _("不能为空"))
    elif len(household_number) > 30:
        bad("户号", _("不能超过30个字符"))
    name = cells["姓名"]
    if not name:
        bad("姓名", _("不能为空"))
    elif len(name) > 50:
        bad("姓名", _("不能超过50个字"))
    relation = cells["与户主关系"]
    if len(relation) > 20:
        bad("与户主关系", _("不能超过20个字"))
    gender = ""
    if cells["性别"]:
        gender = GENDERS.get(cells["性别"], "")
        if not gender:
            bad("性别", _("性别应填“男”或“女”"))
    id_number = ""
    if cells["身份证号"]:
        try:
            id_number = validate_id_number(cells["身份证号"])
        except ValidationError as exc:
            bad("身份证号", exc.messages[0])
    birth_date = None
    if cells["出生日期"]:
        try:
            birth_date = _parse_date(cells["出生日期"])
        except ValueError:
            bad("出生日期", _("出生日期应为YYYY-MM-DD格式的有效日期，如1968-03-15"))
        else:
            if birth_date > timezone.localdate() or birth_date.year < 1880:
                bad("出生日期", _("出生日期不合理"))
            elif id_number and birth_date != birth_date_from_id(id_number):
                bad("出生日期", _("出生日期与身份证号不一致"))
    if id_number:
        id_gender = Resident.Gender.MALE if int(id_number[16]) % 2 else Resident.Gender.FEMALE
        if gender and gender != id_gender:
            bad("性别", _("性别与身份证号不一致"))
        gender = gender or id_gender
        birth_date = birth_date or birth_date_from_id(id_number)
    phone = ""
    if cells["手机号"]:
        try:
            phone = validate_phone(cells["手机号"])
        except ValidationError as exc:
            bad("手机号", exc.messages[0])
    address = cells["住址"]
    if len(address) > 200:
        bad("住址", _("不能超过200个字"))
    rep_ref = None
    if cells["联户代表"]:
        parts = re.split(r"[:：]", cells["联户代表"], maxsplit=1)
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            bad("联户代表", _("应填写“户号:姓名”，如 0012:张建国"))
        else:
            rep_ref = (parts[0].strip(), parts[1].strip())
    row = _RosterRow(
        row=number,
        grid_code=grid_code,
        number=household_number,
        name=name,
        relation=relation,
        gender=gender,
        birth_date=birth_date,
        id_number=id_number,
        phone=phone,
        address=address,
        rep_ref=rep_ref,
    )
    return row


class _RosterPlan:
    """The import worked out in memory: validation, then what to create and what to change."""

    def __init__(self, *, village: Village, table: Table, report: RosterReport):
        self.village = village
        self.table = table
        self.report = report
        self.issues: list[RowIssue] = []
        self.rows: list[_RosterRow] = []
        self.households: dict[str, _HouseholdPlan] = {}
        self.grids: dict[str, Grid] = {}

    # validation ---------------------------------------------------------------------------

    def validate(self) -> None:
        for number, cells in self.table.rows:
            self.rows.append(_parse_roster_row(number, cells, self.issues))
        self._check_grids()
        self._check_households()
        self._check_id_numbers()
        self._check_representative_refs()
        if self.issues:
            raise ImportRejected(self.issues)

    def _bad(self, row: _RosterRow, column: str, message: str) -> None:
        self.issues.append(RowIssue(row.row, column, message))

    def _check_grids(self) -> None:
        codes = sorted({row.grid_code for row in self.rows if row.grid_code})
        for chunk in _chunks(codes):
            for grid in Grid.objects.filter(code__in=chunk).select_related("village"):
                self.grids[grid.code] = grid
        for row in self.rows:
            if not row.grid_code or len(row.grid_code) != 15:
                continue
            grid = self.grids.get(row.grid_code)
            if grid is None:
                self._bad(
                    row,
                    "网格代码",
                    _("网格代码%(code)s不存在，请先导入区划") % {"code": row.grid_code},
                )
            elif grid.village_id != self.village.pk:
                self._bad(
                    row,
                    "网格代码",
                    _("网格%(code)s属于其他村（%(name)s），不能导入到本村")
                    % {"code": row.grid_code, "name": grid.village.name},
                )

    def _check_households(self) -> None:
        for row in self.rows:
            if row.number:
                self.households.setdefault(row.number, _HouseholdPlan(row.number, [])).rows.append(
                    row
                )
        for plan in self.households.values():
            first = plan.rows[0]
            heads = [row for row in plan.rows if row.relation == HEAD_RELATION]
            if not heads:
                self._bad(
                    first,
                    "与户主关系",
                    _("户号%(number)s没有户主，请把户主的“与户主关系”填为“户主”")
                    % {"number": plan.number},
                )
            for extra in heads[1:]:
                self._bad(
                    extra,
                    "与户主关系",
                    _("户号%(number)s有两个户主（另见第%(row)d行）")
                    % {"number": plan.number, "row": heads[0].row},
                )
            plan.head_row = heads[0] if heads else None
            names: dict[str, _RosterRow] = {}
            for row in plan.rows:
                if row.grid_code != first.grid_code:
                    self._bad(
                        row,
                        "网格代码",
                        _("同一户的网格代码不一致（第%(row)d行为%(code)s）")
                        % {"row": first.row, "code": first.grid_code},
                    )
                other = names.get(row.name)
                if other is not None and not (row.id_number and other.id_number):
                    self._bad(
                        row,
                        "姓名",
                        _("本户已有同名村民（第%(row)d行），同名时必须都填写身份证号")
                        % {"row": other.row},
                    )
                names.setdefault(row.name, row)
            first_ref = next((row for row in plan.rows if row.rep_ref), None)
            for row in plan.rows:
                if row.rep_ref and row.rep_ref != first_ref.rep_ref:
                    self._bad(
                        row,
                        "联户代表",
                        _("同一户填写了不同的联户代表（第%(row)d行为%(ref)s）")
                        % {"row": first_ref.row, "ref": ":".join(first_ref.rep_ref)},
                    )
            addresses = [row.address for row in plan.rows if row.address]
            head_address = plan.head_row.address if plan.head_row else ""
            plan.address = head_address or (addresses[0] if addresses else "")
            if first.grid_code in self.grids:
                plan.grid_id = self.grids[first.grid_code].pk

    def _check_id_numbers(self) -> None:
        first_row: dict[str, int] = {}
        for row in self.rows:
            if not row.id_number:
                continue
            seen = first_row.setdefault(row.id_number, row.row)
            if seen != row.row:
                self._bad(row, "身份证号", _("身份证号与第%(row)d行重复") % {"row": seen})
        numbers = sorted(first_row)
        by_number = {row.id_number: row for row in self.rows if row.id_number}
        for chunk in _chunks(numbers):
            elsewhere = (
                # "<> ''" repeated so PostgreSQL can use the partial unique index on id_number.
                Resident.objects.filter(id_number__in=chunk)
                .exclude(id_number="")
                .exclude(household__village_id=self.village.pk)
                .order_by()
                .values_list("id_number", "household__village__name")
            )
            for id_number, village_name in elsewhere:
                self._bad(
                    by_number[id_number],
                    "身份证号",
                    _("该身份证号已登记在其他村（%(name)s）的村民名下") % {"name": village_name},
                )

    def _check_representative_refs(self) -> None:
        index: dict[tuple[str, str], list[_RosterRow]] = defaultdict(list)
        for row in self.rows:
            index[(row.number, row.name)].append(row)
        for plan in self.households.values():
            ref_row = next((row for row in plan.rows if row.rep_ref), None)
            if ref_row is None:
                continue
            targets = index.get(ref_row.rep_ref, [])
            label = f"{ref_row.rep_ref[0]}:{ref_row.rep_ref[1]}"
            if not targets:
                self._bad(
                    ref_row,
                    "联户代表",
                    _("联户代表“%(ref)s”不在本名单中（应为名单中某户的户号和姓名）")
                    % {"ref": label},
                )
            elif len(targets) > 1:
                self._bad(
                    ref_row,
                    "联户代表",
                    _("联户代表“%(ref)s”在名单中重名，无法确定") % {"ref": label},
                )
            else:
                plan.rep_row = targets[0]

    # matching against the database ---------------------------------------------------------

    def match(self) -> None:
        """Pair every row with an existing resident (or none) and count what will change."""
        village = self.village
        self.existing_households = {
            h["number"]: h
            for h in Household.objects.filter(village=village).values(
                "id", "number", "grid_id", "address", "head_id", "representative_id"
            )
        }
        existing = list(
            Resident.objects.filter(household__village=village).values(
                "id", "household_id", "household__number", *RESIDENT_FIELDS
            )
        )
        by_id = {r["id_number"]: r for r in existing if r["id_number"]}
        by_name: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for resident in existing:
            by_name[(resident["household__number"], resident["name"])].append(resident)
        file_ids = {row.id_number for row in self.rows if row.id_number}
        self.matched: dict[int, dict] = {}  # row number → existing resident values
        taken: set[int] = set()
        for row in self.rows:
            resident = by_id.get(row.id_number) if row.id_number else None
            if resident is not None:
                self.matched[row.row] = resident
                taken.add(resident["id"])
        for row in self.rows:
            if row.row in self.matched:
                continue
            for resident in by_name.get((row.number, row.name), []):
                if resident["id"] in taken:
                    continue
                if resident["id_number"] and resident["id_number"] in file_ids:
                    continue
                self.matched[row.row] = resident
                taken.add(resident["id"])
                break
        self.resident_values = {row.row: self._resident_values(row) for row in self.rows}
        for row in self.rows:
            resident = self.matched.get(row.row)
            if resident is None:
                self.report.residents.created += 1
            elif self._resident_changed(row, resident):
                self.report.residents.updated += 1
            else:
                self.report.residents.unchanged += 1
        self._match_representatives()
        self._count_households()

    def _resident_values(self, row: _RosterRow) -> dict[str, Any]:
        """The values to store; an empty cell keeps what is stored (the roster is often partial)."""
        values = {field_name: getattr(row, field_name) for field_name in RESIDENT_FIELDS}
        resident = self.matched.get(row.row)
        if resident is not None:
            for field_name in RESIDENT_FIELDS:
                if values[field_name] in ("", None):
                    values[field_name] = resident[field_name]
        return values

    def _resident_changed(self, row: _RosterRow, resident: dict) -> bool:
        existing_household = self.existing_households.get(row.number)
        if existing_household is None or resident["household_id"] != existing_household["id"]:
            return True
        values = self.resident_values[row.row]
        return any(values[name] != resident[name] for name in RESIDENT_FIELDS)

    def _match_representatives(self) -> None:
        rep_rows = {
            plan.rep_row.row: plan.rep_row for plan in self.households.values() if plan.rep_row
        }
        resident_ids = [self.matched[n]["id"] for n in rep_rows if n in self.matched]
        active: dict[int, int] = {}
        for chunk in _chunks(resident_ids):
            active.update(
                Representative.objects.filter(
                    resident_id__in=chunk, ended_on__isnull=True
                ).values_list("resident_id", "id")
            )
        self.rep_ids: dict[int, int] = {}  # row number → existing active representative id
        self.new_rep_rows: list[_RosterRow] = []
        for number, row in sorted(rep_rows.items()):
            resident = self.matched.get(number)
            if resident is not None and resident["id"] in active:
                self.rep_ids[number] = active[resident["id"]]
                self.report.representatives.unchanged += 1
            else:
                self.new_rep_rows.append(row)
                self.report.representatives.created += 1
        self._plan_logins()

    def _plan_logins(self) -> None:
        """New representatives with a phone get a phone login, as representative_appoint gives."""
        phones = {}
        for row in self.new_rep_rows:
            phone = self.resident_values[row.row]["phone"]
            if not phone:
                continue
            if phone in phones:
                self.report.warnings.append(
                    RowIssue(
                        row.row,
                        "手机号",
                        _("与第%(row)d行的联户代表手机号相同，本代表暂不开通手机登录")
                        % {"row": phones[phone].row},
                    )
                )
                continue
            phones[phone] = row
        user_model = get_user_model()
        users: dict[str, Any] = {}
        numbers = sorted(phones)
        for chunk in _chunks(numbers):
            for user in user_model.objects.filter(Q(phone__in=chunk) | Q(username__in=chunk)):
                users[user.phone if user.phone in phones else user.username] = user
        busy_users = set()
        scopes = {}
        if users:
            user_ids = [user.pk for user in users.values()]
            for chunk in _chunks(user_ids):
                busy_users.update(
                    Representative.objects.filter(
                        user_id__in=chunk, ended_on__isnull=True
                    ).values_list("user_id", flat=True)
                )
                scopes.update({s.user_id: s for s in Scope.objects.filter(user_id__in=chunk)})
        self.login_users: dict[int, Any] = {}  # row number → existing user to link
        self.login_new: dict[int, str] = {}  # row number → phone for a new user
        for phone, row in phones.items():
            user = users.get(phone)
            if user is None:
                self.login_new[row.row] = phone
                continue
            scope = scopes.get(user.pk)
            if phone_login_taken(
                user=user,
                scope_role=scope.role if scope is not None else None,
                holds_active_term=user.pk in busy_users,
            ):
                self.report.warnings.append(
                    RowIssue(row.row, "手机号", str(PHONE_LOGIN_TAKEN_MESSAGE))
                )
                continue
            self.login_users[row.row] = (user, scope)
        self.report.logins_created = len(self.login_new)

    def _count_households(self) -> None:
        for number, plan in self.households.items():
            existing = self.existing_households.get(number)
            if existing is None:
                self.report.households.created += 1
                continue
            head = self.matched.get(plan.head_row.row) if plan.head_row else None
            changed = (
                existing["grid_id"] != plan.grid_id
                or (plan.address and existing["address"] != plan.address)
                or head is None
                or existing["head_id"] != head["id"]
            )
            if plan.rep_row is not None:
                rep_id = self.rep_ids.get(plan.rep_row.row)
                changed = changed or rep_id is None or existing["representative_id"] != rep_id
            if changed:
                self.report.households.updated += 1
            else:
                self.report.households.unchanged += 1

    # writing ---------------------------------------------------------------------------------

    def write(self) -> None:
        village = self.village
        household_ids = {number: h["id"] for number, h in self.existing_households.items()}
        new_households = [
            Household(village=village, grid_id=plan.grid_id, number=number, address=plan.address)
            for number, plan in self.households.items()
            if number not in household_ids
        ]
        Household.objects.bulk_create(new_households, batch_size=CREATE_BATCH)
        household_ids.update({h.number: h.pk for h in new_households})

        resident_ids: dict[int, int] = {}  # row number → resident id
        new_residents, new_rows, changed_residents = [], [], []
        moved_ids = set()
        for row in self.rows:
            values = self.resident_values[row.row]
            household_id = household_ids[row.number]
            existing = self.matched.get(row.row)
            if existing is None:
                new_residents.append(Resident(household_id=household_id, **values))
                new_rows.append(row.row)
                continue
            resident_ids[row.row] = existing["id"]
            if self._resident_changed(row, existing):
                if existing["household_id"] != household_id:
                    moved_ids.add(existing["id"])
                changed_residents.append(
                    Resident(id=existing["id"], household_id=household_id, **values)
                )
        Resident.objects.bulk_create(new_residents, batch_size=CREATE_BATCH)
        resident_ids.update(zip(new_rows, (r.pk for r in new_residents), strict=True))
        _update_rows(Resident, ["household", *RESIDENT_FIELDS], changed_residents)

        rep_ids = dict(self.rep_ids)
        rep_ids.update(self._appoint(resident_ids, household_ids))

        changed_households = []
        for number, plan in self.households.items():
            existing = self.existing_households.get(number)
            head_id = resident_ids[plan.head_row.row]
            rep_id = rep_ids[plan.rep_row.row] if plan.rep_row else None
            if existing is None:
                changed_households.append(
                    Household(
                        id=household_ids[number],
                        grid_id=plan.grid_id,
                        address=plan.address,
                        head_id=head_id,
                        representative_id=rep_id,
                    )
                )
                continue
            target = {
                "grid_id": plan.grid_id,
                "address": plan.address or existing["address"],
                "head_id": head_id,
                "representative_id": rep_id if plan.rep_row else existing["representative_id"],
            }
            if any(existing[name] != value for name, value in target.items()):
                changed_households.append(Household(id=existing["id"], **target))
        # A head who moved to another household no longer heads a household left out of the file.
        if moved_ids:
            for household in Household.objects.filter(
                village=village, head_id__in=moved_ids
            ).exclude(number__in=list(self.households)):
                changed_households.append(
                    Household(
                        id=household.pk,
                        grid_id=household.grid_id,
                        address=household.address,
                        head_id=None,
                        representative_id=household.representative_id,
                    )
                )
        _update_rows(Household, ["grid", "address", "head", "representative"], changed_households)

    def _appoint(
        self, resident_ids: dict[int, int], household_ids: dict[str, int]
    ) -> dict[int, int]:
        """Bulk version of services.representative_appoint for the roster's new representatives.

        Same rules: the representative is a resident of the village, serves the grid of their own
        household, holds one active term, and gets a phone login with a representative scope.
        Card numbers are ``<grid code>-<NNN>``, numbered per grid after the highest one in use, in
        the order of 户号 then 姓名, so the same file always gives the same numbers.
        """
        if not self.new_rep_rows:
            return {}
        today = timezone.localdate()
        highest: dict[str, int] = defaultdict(int)
        for card in Representative.objects.filter(
            card_number__startswith=self.village.code
        ).values_list("card_number", flat=True):
            prefix, _sep, sequence = card.partition("-")
            if sequence.isascii() and sequence.isdigit():
                highest[prefix] = max(highest[prefix], int(sequence))
        user_model = get_user_model()
        new_users = {}
        for number, phone in self.login_new.items():
            row = next(r for r in self.new_rep_rows if r.row == number)
            new_users[number] = user_model(
                username=phone, phone=phone, display_name=row.name, password=make_password(None)
            )
        user_model.objects.bulk_create(new_users.values(), batch_size=CREATE_BATCH)
        scopes_new, scopes_changed = [], []
        representatives = []
        for row in sorted(self.new_rep_rows, key=lambda r: (r.number, r.name, r.row)):
            grid = self.grids[self.households[row.number].rows[0].grid_code]
            highest[grid.code] += 1
            user = new_users.get(row.row)
            if user is not None:
                scopes_new.append(
                    Scope(user=user, role=Role.REPRESENTATIVE, village=self.village, grid=grid)
                )
            elif row.row in self.login_users:
                user, scope = self.login_users[row.row]
                if scope is None:
                    scopes_new.append(
                        Scope(user=user, role=Role.REPRESENTATIVE, village=self.village, grid=grid)
                    )
                else:
                    scope.village, scope.grid, scope.township = self.village, grid, None
                    scopes_changed.append(scope)
            representatives.append(
                Representative(
                    resident_id=resident_ids[row.row],
                    grid=grid,
                    card_number=f"{grid.code}-{highest[grid.code]:03d}",
                    appointed_on=today,
                    kind=Representative.Kind.LINKED,
                    user=user,
                )
            )
        Scope.objects.bulk_create(scopes_new, batch_size=CREATE_BATCH)
        _update_rows(Scope, ["village", "grid", "township"], scopes_changed)
        Representative.objects.bulk_create(representatives, batch_size=CREATE_BATCH)
        rows_in_order = sorted(self.new_rep_rows, key=lambda r: (r.number, r.name, r.row))
        return {row.row: rep.pk for row, rep in zip(rows_in_order, representatives, strict=True)}
