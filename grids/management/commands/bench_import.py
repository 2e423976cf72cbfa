"""python manage.py bench_import [--households N] — time a township-sized roster import.

Builds a synthetic roster (default 12,310 households ≈ 40,000 residents, the size of 欧江岔镇)
with valid ID numbers and realistic names, imports it into a fresh village of a 基准测试镇 on the
configured database, then re-imports the same file (must change nothing) and a file with 1% of
the addresses changed (must update exactly those households). Prints the timings.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from grids.models import Grid, Household, Representative, Resident, Township, Village
from grids.roster_import import ROSTER_COLUMNS, read_table_from_path, roster_import
from grids.services import grid_create, township_create, village_create
from grids.validators import id_check_char

BENCH_TOWNSHIP_CODE = "430903199"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛阎段雷侯龙史陶黎贺顾毛郝龚邵万"
)
GIVEN_MALE = "建国志强伟明华军平刚勇海波德文斌春生卫东国庆红兵俊杰浩然子轩宇航家豪立新永胜长林光荣"
GIVEN_FEMALE = (
    "桂兰秀英美华丽娟小红玉珍春梅淑芬丽萍海燕文静思雨欣怡雅婷婉清慧敏晓燕翠兰凤英金花月娥"
)
# Household sizes 1–6 weighted to average ≈3.25 residents, as in the seeds' township.
SIZE_WEIGHTS = ((1, 9), (2, 22), (3, 28), (4, 24), (5, 12), (6, 5))
HOUSEHOLDS_PER_GRID = 50
HOUSEHOLDS_PER_REPRESENTATIVE = 10


class Command(BaseCommand):
    help = "生成合成花名册并计时导入（首次导入、重复导入、1%变更后导入）"

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=12310, help="户数，默认12310")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子")

    def handle(self, *args, households: int, seed: int, **options):
        if not 1 <= households <= HOUSEHOLDS_PER_GRID * 999:
            raise CommandError(f"户数应在1到{HOUSEHOLDS_PER_GRID * 999}之间")
        village, grids = self._fresh_village(households)
        rng = random.Random(seed)
        rows = synthetic_roster(rng=rng, village=village, grids=grids, households=households)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench_roster.csv"
            _write_csv(path, rows)
            first, t1 = self._timed(path, village)
            second, t2 = self._timed(path, village)
            changed = rng.sample(range(households), max(1, households // 100))
            numbers = {f"{i + 1:05d}" for i in changed}
            for row in rows:
                if row[1] in numbers and row[3] == "户主":
                    row[8] = row[8] + "（已改门牌）"
            _write_csv(path, rows)
            third, t3 = self._timed(path, village)
        self._check(village, rows, first, second, third, len(numbers))
        self._print(households, len(rows), first, (t1, t2, t3), len(numbers))

    def _fresh_village(self, households: int) -> tuple[Village, list[Grid]]:
        township = Township.objects.filter(code=BENCH_TOWNSHIP_CODE).first() or township_create(
            actor=None, code=BENCH_TOWNSHIP_CODE, name="基准测试镇"
        )
        used = set(Village.objects.filter(township=township).values_list("code", flat=True))
        free = next(
            (
                f"{BENCH_TOWNSHIP_CODE}{n:03d}"
                for n in range(1, 1000)
                if f"{BENCH_TOWNSHIP_CODE}{n:03d}" not in used
            ),
            None,
        )
        if free is None:
            raise CommandError("基准测试镇的999个村代码已用完，请换一个空数据库")
        village = village_create(
            actor=None, township=township, code=free, name=f"基准测试村{free[-3:]}"
        )
        grid_count = -(-households // HOUSEHOLDS_PER_GRID)
        grids = [
            grid_create(actor=None, village=village, code=f"{free}{n:03d}", name=f"第{n}网格")
            for n in range(1, grid_count + 1)
        ]
        return village, grids

    def _timed(self, path: Path, village: Village):
        started = time.perf_counter()
        table = read_table_from_path(path, columns=ROSTER_COLUMNS)
        report = roster_import(actor=None, village=village, table=table)
        return report, time.perf_counter() - started

    def _check(self, village, rows, first, second, third, changed: int) -> None:
        """The benchmark is only worth its figure if the import did the right thing."""
        residents = Resident.objects.filter(household__village=village).count()
        household_count = Household.objects.filter(village=village).count()
        heads = Household.objects.filter(village=village, head__isnull=False).count()
        reps = Representative.objects.filter(grid__village=village, ended_on__isnull=True).count()
        expected_households = len({row[1] for row in rows})
        expected_reps = len({row[9] for row in rows if row[9]})
        problems = []
        if residents != len(rows) or first.residents.created != len(rows):
            problems.append(f"村民数{residents}，应为{len(rows)}")
        if household_count != expected_households or heads != expected_households:
            problems.append(f"户数{household_count}（有户主{heads}），应为{expected_households}")
        if reps != expected_reps or first.representatives.created != expected_reps:
            problems.append(f"联户代表{reps}，应为{expected_reps}")
        if (
            second.residents.unchanged != len(rows)
            or second.households.unchanged != expected_households
        ):
            problems.append("重复导入应全部未变")
        if third.households.updated != changed or third.residents.updated != 0:
            problems.append(f"变更导入应更新{changed}户，实际{third.households.updated}户")
        if problems:
            raise CommandError("基准导入结果不正确：" + "；".join(problems))

    def _print(self, households: int, residents: int, first, times, changed: int) -> None:
        t1, t2, t3 = times
        vendor = connection.vendor
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SHOW server_version")
                version = f"PostgreSQL {cursor.fetchone()[0]}"
            else:
                version = f"{vendor} {connection.Database.sqlite_version if vendor == 'sqlite' else ''}".strip()
        out = self.stdout.write
        out(f"数据库：{version}；CPU：{os.cpu_count()}核；Python {platform.python_version()}")
        out(
            f"花名册：{households}户，{residents}名村民，"
            f"{first.representatives.created}名联户代表（{first.logins_created}个手机登录）"
        )
        out(f"首次导入：{t1:.1f}秒（{residents / t1:,.0f}行/秒）")
        out(f"重复导入（全部未变）：{t2:.1f}秒")
        out(f"1%变更（{changed}户改住址）：{t3:.1f}秒")
        out("")
        out("| 场景 | 户 | 村民 | 秒 |")
        out("| --- | ---: | ---: | ---: |")
        out(f"| 首次导入 | {households} | {residents} | {t1:.1f} |")
        out(f"| 重复导入（全部未变） | {households} | {residents} | {t2:.1f} |")
        out(f"| 1%住址变更 | {households} | {residents} | {t3:.1f} |")


def synthetic_roster(
    *, rng: random.Random, village: Village, grids: list[Grid], households: int
) -> list[list[str]]:
    """Rows in ROSTER_COLUMNS order; unique valid ID numbers; one representative per 10 households."""
    region = f"439{village.code[-3:]}"  # distinct per bench village, so runs never share ID numbers
    used_ids: set[str] = set()
    sizes, weights = zip(*SIZE_WEIGHTS, strict=True)
    today = dt.date.today()
    rows: list[list[str]] = []
    phone_seq = 0

    def id_number(birth: dt.date, male: bool) -> str:
        while True:
            sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
            body = f"{region}{birth:%Y%m%d}{sequence:03d}"
            number = body + id_check_char(body)
            if number not in used_ids:
                used_ids.add(number)
                return number

    def given(male: bool) -> str:
        pool = GIVEN_MALE if male else GIVEN_FEMALE
        start = rng.randrange(0, len(pool) // 2) * 2
        return pool[start : start + 2] if rng.random() < 0.8 else pool[start]

    def phone() -> str:
        nonlocal phone_seq
        phone_seq += 1
        return f"13{village.code[-3:]}{phone_seq:06d}"

    rep_ref = ""
    for index in range(households):
        grid = grids[index // HOUSEHOLDS_PER_GRID]
        number = f"{index + 1:05d}"
        surname = rng.choice(SURNAMES)
        head_male = rng.random() < 0.8
        head_birth = today - dt.timedelta(days=rng.randrange(25 * 365, 85 * 365))
        head_name = surname + given(head_male)
        if index % HOUSEHOLDS_PER_REPRESENTATIVE == 0:
            rep_ref = f"{number}:{head_name}"
        members = [("户主", head_name, head_male, head_birth)]
        names = {head_name}

        def unique_name(family: str, male: bool, names: set[str] = names) -> str:
            name = family + given(male)
            while name in names:  # a clerk cannot tell two same-named members apart without IDs
                name = family + given(male) + given(male)[0]
            names.add(name)
            return name

        size = rng.choices(sizes, weights)[0]
        if size >= 2:
            birth = head_birth + dt.timedelta(days=rng.randrange(-1500, 1500))
            spouse = unique_name(rng.choice(SURNAMES), not head_male)
            members.append(("配偶", spouse, not head_male, min(birth, today)))
        for _ in range(size - len(members)):
            male = rng.random() < 0.5
            birth = head_birth + dt.timedelta(days=rng.randrange(20 * 365, 40 * 365))
            if birth >= today:
                birth = today - dt.timedelta(days=rng.randrange(1, 18 * 365))
            members.append(("子" if male else "女", unique_name(surname, male), male, birth))
        address = f"{village.name}{grid.name}{index % HOUSEHOLDS_PER_GRID + 1}号"
        for position, (relation, name, male, birth) in enumerate(members):
            is_head = position == 0
            has_phone = (
                is_head and index % HOUSEHOLDS_PER_REPRESENTATIVE == 0
            ) or rng.random() < 0.5
            rows.append(
                [
                    grid.code,
                    number,
                    name,
                    relation,
                    "男" if male else "女",
                    birth.isoformat() if rng.random() < 0.7 else "",
                    id_number(birth, male) if rng.random() < 0.97 else "",
                    phone() if has_phone else "",
                    address if is_head else "",
                    rep_ref if is_head else "",
                ]
            )
    return rows


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROSTER_COLUMNS)
        writer.writerows(rows)
