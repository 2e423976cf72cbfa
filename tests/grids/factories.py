"""Spreadsheet builders for the import tests: a small valid roster, written as CSV or XLSX."""

import csv
import datetime as dt
import io

from openpyxl import Workbook

from grids.roster_import import ROSTER_COLUMNS, TERRITORY_COLUMNS
from tests.factories import make_id_number

GRID_1 = "430903106201001"
GRID_2 = "430903106201002"


def roster_rows() -> list[dict[str, str]]:
    """Three households, eight residents, one 联户代表 (0001:刘志强) for two of the households."""
    rows = [
        (GRID_1, "0001", "刘建国", "户主", "男", "1962-03-15", make_id_number(11, dt.date(1962, 3, 15)), "13807301234", "一组3号", "0001:刘志强"),
        (GRID_1, "0001", "周桂兰", "配偶", "女", "", make_id_number(22, dt.date(1964, 8, 2)), "", "", ""),
        (GRID_1, "0001", "刘志强", "子", "男", "1988-11-20", make_id_number(31, dt.date(1988, 11, 20)), "13907305678", "", ""),
        (GRID_1, "0002", "陈德明", "户主", "", "", make_id_number(41, dt.date(1955, 1, 9)), "", "一组5号", "0001:刘志强"),
        (GRID_1, "0002", "李秀英", "配偶", "女", "1957-06-30", "", "", "", ""),
        (GRID_2, "0003", "王海波", "户主", "男", "1979-04-12", make_id_number(51, dt.date(1979, 4, 12)), "15073011122", "二组8号", ""),
        (GRID_2, "0003", "赵丽", "配偶", "女", "1981-09-05", make_id_number(62, dt.date(1981, 9, 5)), "", "", ""),
        (GRID_2, "0003", "王浩然", "子", "男", "2013-07-01", "", "", "", ""),
    ]  # fmt: skip
    return [dict(zip(ROSTER_COLUMNS, row, strict=True)) for row in rows]


def territory_rows() -> list[dict[str, str]]:
    rows = [
        (
            "430903106",
            "欧江岔镇",
            "430903106201",
            "长东湖村",
            "东片",
            "430903106201001",
            "第一网格",
        ),
        (
            "430903106",
            "欧江岔镇",
            "430903106201",
            "长东湖村",
            "东片",
            "430903106201002",
            "第二网格",
        ),
        ("430903106", "欧江岔镇", "430903106202", "注湖港村", "", "430903106202001", "第一网格"),
    ]
    return [dict(zip(TERRITORY_COLUMNS, row, strict=True)) for row in rows]


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    columns: tuple[str, ...] = ROSTER_COLUMNS,
    encoding: str = "utf-8",
) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict[str, str]], *, columns: tuple[str, ...] = ROSTER_COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(column, "") for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path
