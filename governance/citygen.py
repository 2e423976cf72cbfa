"""A deterministic synthetic city for the scale benchmarks (``manage.py generate_city``).

Everything is written with PostgreSQL ``COPY`` from in-memory buffers, table by table, in one
transaction: nothing is inserted row by row and a failed run leaves nothing behind. Ids are
assigned here (after the tables' current maximum) so that foreign keys are known without
``RETURNING``; the sequences are moved past them at the end. Foreign keys are deferred until
the commit, so a household may name its head before the residents are copied.

Rates (per month unless said otherwise), chosen from the seeds and DESIGN.md §8:

- every household visited about weekly by its representative (93 % of weeks; 3 % of
  representatives skip a whole month, so "needing attention" is not empty);
- 1 % of households raise a request; kinds 60 % 诉求 / 20 % 咨询 / 10 % 点单 / 10 % 纠纷;
  levels 70 % 民事 / 20 % 村事 / 10 % 政事 (the seeds: 137 collected, 97 resolved in the grid);
  6 % of grid and village requests are escalated one level; 85 % of resolved requests get a
  return visit, 5 % of them unsatisfied (reopened, resolved again);
- about 2.5 ledger entries per household: a base grant at the start, ~1.9 awards, ~0.2
  deductions (a few of them black-list offences), 6 % of households redeem at the shop;
- 3 meetings (屋场会/院坝会/夜话乡村) per village with 15–30 residents attending each.

The random stream is ``random.Random(seed)``; the same arguments and the same "today" give the
same rows.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from grids.demo_names import random_name
from grids.models import PUBLIC_CODE_ALPHABET
from grids.validators import id_check_char

# Every generated login (representatives, village and township staff) has this password.
BENCH_PASSWORD = "city-bench-2026"  # noqa: S105 (synthetic benchmark logins only)

HOUSEHOLDS_PER_GRID = 70
VILLAGES_PER_TOWNSHIP = 25
VISIT_WEEK_RATE = 0.93
LAZY_REP_MONTH_RATE = 0.03
REQUEST_RATE = 0.01
KIND_MIX = (("request", 60), ("consultation", 20), ("service_order", 10), ("dispute", 10))
LEVEL_MIX = (("grid", 70), ("village", 20), ("township", 10))
ESCALATE_RATE = 0.06
RETURN_VISIT_RATE = 0.85
SATISFACTION_MIX = (("satisfied", 75), ("basically", 20), ("unsatisfied", 5))
AWARD_COUNT_MIX = ((0, 12), (1, 25), (2, 30), (3, 20), (4, 13))  # mean 1.97
DEDUCTION_COUNT_MIX = ((0, 83), (1, 15), (2, 2))  # mean 0.19
REDEEM_RATE = 0.06
BASE_POINTS = 100
MEETINGS_PER_VILLAGE = 3
COPY_FLUSH_ROWS = 100_000

RESIDENT_COUNT_MIX = ((1, 10), (2, 25), (3, 30), (4, 20), (5, 15))  # mean 3.05
REQUEST_CATEGORIES = (
    "道路交通",
    "环境卫生",
    "农业生产",
    "社会保障",
    "医疗卫生",
    "邻里纠纷",
    "土地山林",
    "其他",
)
DEPARTMENTS = ("民政办", "农业农村办", "自然资源所", "医保站", "综治中心")
POINTS_CATEGORIES = ("社会公德", "职业道德", "家庭美德", "个人品德")
# code, name, points, category, black-list offence, weight in its draw
AWARD_RULES = (
    ("A01", "参加村庄环境整治", 5, "社会公德", False, 30),
    ("A02", "孝老爱亲", 10, "家庭美德", False, 20),
    ("A03", "志愿服务", 5, "社会公德", False, 20),
    ("A04", "邻里互助", 5, "个人品德", False, 15),
    ("A05", "庭院美化", 10, "家庭美德", False, 10),
    ("A06", "诚信经营", 10, "职业道德", False, 4),
    ("A07", "见义勇为", 50, "社会公德", False, 1),
)
DEDUCTION_RULES = (
    ("D01", "乱倒垃圾", -5, "社会公德", False, 50),
    ("D02", "占道堆放", -5, "社会公德", False, 30),
    ("D03", "违规燃放", -10, "个人品德", False, 14),
    ("D04", "不赡养老人", -20, "家庭美德", True, 3),
    ("D05", "聚众赌博", -30, "个人品德", True, 3),
)
PRODUCTS = (("食用油", 30), ("洗衣粉", 10), ("大米5斤", 25), ("毛巾", 8), ("保温杯", 40))
RESOLVE_DAYS = {"grid": (0.3, 3.0), "village": (1.0, 8.0), "township": (3.0, 20.0)}
DEADLINE_DAYS = {"grid": 3, "village": 7, "township": 15}
NEXT_LEVEL = {"grid": "village", "village": "township"}
VISIT_NOTES = ("家中一切正常", "了解生产生活情况", "宣传政策", "询问身体状况", "")
REQUEST_TITLES = {
    "request": ("路灯损坏", "排水沟堵塞", "申请危房改造", "自来水压力不足"),
    "consultation": ("医保缴费咨询", "养老保险政策咨询", "补贴发放时间咨询"),
    "service_order": ("代办社保卡", "代购农资", "代缴电费"),
    "dispute": ("宅基地界址纠纷", "邻里用水纠纷", "山林权属纠纷"),
}
MEETING_KINDS = (("wuchang", "wuchang", "屋场"), ("yuanba", "courtyard", "议事小院"))
MEETING_TOPICS = ("人居环境整治", "积分评议", "产业发展", "防汛安全", "移风易俗")


def _cum(mix):
    """(values, cumulative weights) for rng.choices(values, cum_weights=...)."""
    values, cum, total = [], [], 0
    for value, weight in mix:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


def _pick(rng: random.Random, values_cum):
    values, cum = values_cum
    return rng.choices(values, cum_weights=cum)[0]


def _months_back(first_of_month: dt.date, n: int) -> dt.date:
    year, month = first_of_month.year, first_of_month.month - n
    while month < 1:
        month += 12
        year -= 1
    return dt.date(year, month, 1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _code_from(number: int, rng: random.Random, length: int = 12) -> str:
    """Unique by construction (the number in base 31) and unguessable-looking (random head)."""
    tail = []
    while number:
        number, digit = divmod(number, len(PUBLIC_CODE_ALPHABET))
        tail.append(PUBLIC_CODE_ALPHABET[digit])
    tail = "".join(reversed(tail)).rjust(6, PUBLIC_CODE_ALPHABET[0])
    head = "".join(rng.choices(PUBLIC_CODE_ALPHABET, k=length - len(tail)))
    return head + tail


# --- COPY ---------------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            value = (
                value.replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


class CopyTable:
    """Rows buffered as COPY text and sent in chunks with ``copy_expert``."""

    def __init__(self, cursor, table: str, columns: tuple[str, ...], first_id: int):
        self.cursor = cursor
        self.table = table
        self.columns = ("id", *columns)
        self.next_id = first_id
        self.rows = 0
        self._buffer = io.StringIO()
        self._pending = 0

    def add(self, *values) -> int:
        row_id = self.next_id
        self.next_id += 1
        self._buffer.write(str(row_id))
        for value in values:
            self._buffer.write("\t")
            self._buffer.write(_text(value))
        self._buffer.write("\n")
        self.rows += 1
        self._pending += 1
        if self._pending >= COPY_FLUSH_ROWS:
            self.flush()
        return row_id

    def flush(self) -> None:
        if not self._pending:
            return
        self._buffer.seek(0)
        self.cursor.copy_expert(
            f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self._buffer
        )
        self._buffer = io.StringIO()
        self._pending = 0


# --- the plan -----------------------------------------------------------------------------------


@dataclass
class CityResult:
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    months: list[dt.date] = field(default_factory=list)
    seconds: float = 0.0


TABLES = (
    "grids_user",
    "grids_scope",
    "grids_township",
    "grids_village",
    "grids_grid",
    "grids_household",
    "grids_resident",
    "grids_representative",
    "grids_visit",
    "governance_requestcategory",
    "governance_department",
    "governance_request",
    "governance_requestevent",
    "governance_returnvisit",
    "points_category",
    "points_pointsrule",
    "points_account",
    "points_ledgerentry",
    "points_shop",
    "points_product",
    "points_stockmovement",
    "points_redemption",
    "points_redemptionline",
    "deliberation_meeting",
    "deliberation_attendance",
)

# Truncated by --reset (everything the apps hold; TRUNCATE does not fire the row triggers).
RESET_TABLES_LIKE = ("grids\\_%", "governance\\_%", "points\\_%", "deliberation\\_%")


def reset_database(cursor) -> None:
    likes = " OR ".join(["tablename LIKE %s"] * len(RESET_TABLES_LIKE))
    sql = "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = "
    cursor.execute(f"{sql} current_schema() AND ({likes})", RESET_TABLES_LIKE)
    (tables,) = cursor.fetchone()
    if tables:
        cursor.execute(f"TRUNCATE {tables}, django_admin_log, django_session CASCADE")


def generate_city(
    *,
    villages: int,
    households: int,
    months: int,
    seed: int,
    today: dt.date | None = None,
    out=None,
) -> CityResult:
    """Fill the (PostgreSQL) database with the city; returns row counts and phase timings."""
    if connection.vendor != "postgresql":
        raise RuntimeError("generate_city needs PostgreSQL (it writes with COPY)")
    if villages < 1 or households < villages or months < 1:
        raise ValueError("need villages ≥ 1, households ≥ villages and months ≥ 1")
    say = out or (lambda message: None)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM grids_township)")
        if cursor.fetchone()[0]:
            raise RuntimeError("the database already holds townships: use --reset")
        gen = _Generator(
            cursor,
            villages=villages,
            households=households,
            months=months,
            seed=seed,
            today=today or timezone.localdate(),
            say=say,
        )
        result = gen.run()
        tick = time.perf_counter()
        say("checking deferred foreign keys …")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        result.timings["foreign key check"] = time.perf_counter() - tick
    tick = time.perf_counter()
    # VACUUM sets the visibility map and hint bits that COPY leaves unset: without it the first
    # queries rewrite every page and index-only scans fetch the heap. (Not possible inside a
    # transaction, e.g. a test's: there ANALYZE alone.)
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"{command} {table}")
    result.timings["vacuum analyze"] = time.perf_counter() - tick
    result.seconds = time.perf_counter() - started
    return result


class _Generator:
    def __init__(self, cursor, *, villages, households, months, seed, today, say):
        self.cursor = cursor
        self.n_villages = villages
        self.n_households = households
        self.n_months = months
        self.rng = random.Random(seed)
        self.seed = seed
        self.say = say
        self.zone = ZoneInfo(settings.TIME_ZONE)
        end_month = today.replace(day=1)
        self.months = [_months_back(end_month, k) for k in range(months, 0, -1)]
        self.start_day = self.months[0]
        self.end_day = end_month
        self.start = dt.datetime.combine(self.start_day, dt.time(0), tzinfo=self.zone)
        self.horizon = dt.datetime.combine(self.end_day, dt.time(0), tzinfo=self.zone)
        self.result = CityResult(months=list(self.months))
        self.tables: dict[str, CopyTable] = {}
        self.password = make_password(BENCH_PASSWORD)

    # - plumbing -

    def table(self, name: str, *columns: str) -> CopyTable:
        # Table names are this module's constants, never input.
        self.cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {name}")  # noqa: S608
        self.tables[name] = CopyTable(self.cursor, name, columns, self.cursor.fetchone()[0])
        return self.tables[name]

    def finish(self, *names: str) -> None:
        for name in names:
            self.tables[name].flush()
            self.result.counts[name] = self.tables[name].rows

    def phase(self, label: str, tick: float) -> float:
        now = time.perf_counter()
        self.result.timings[label] = now - tick
        self.say(f"  {label}: {now - tick:.1f} s")
        return now

    def at(self, day: dt.date, hour_from: int = 8, hour_to: int = 20) -> dt.datetime:
        seconds = self.rng.randrange(hour_from * 3600, hour_to * 3600)
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone) + dt.timedelta(
            seconds=seconds
        )

    def run(self) -> CityResult:
        tick = time.perf_counter()
        self.say(
            f"city: {self.n_villages} villages, {self.n_households} households, "
            f"months {self.months[0]:%Y-%m}…{self.months[-1]:%Y-%m}"
        )
        self.open_tables()
        self.territory()
        tick = self.phase("territory and staff", tick)
        self.people_and_activity()
        tick = self.phase("households, residents, representatives, visits, requests, ledger", tick)
        self.shop_stock()
        self.meetings()
        tick = self.phase("shops and meetings", tick)
        self.finish(*self.tables)
        self.say("  moving sequences …")
        for name in self.tables:
            top = f"(SELECT COALESCE(MAX(id), 1) FROM {name})"  # noqa: S608 (our constants)
            self.cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), {top})", [name])
        self.phase("flush", tick)
        return self.result

    def open_tables(self) -> None:
        t = self.table
        t(
            "grids_user",
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
            "phone",
            "display_name",
            "session_epoch",
            "password_must_change",
        )
        t("grids_scope", "role", "user_id", "township_id", "village_id", "grid_id")
        t(
            "grids_township",
            "code",
            "name",
            "grid_deadline_days",
            "village_deadline_days",
            "township_deadline_days",
        )
        t(
            "grids_village",
            "code",
            "name",
            "kind",
            "min_households_per_rep",
            "max_households_per_rep",
            "visit_cadence_days",
            "township_id",
        )
        t("grids_grid", "code", "name", "village_id", "leader_id", "section_id")
        t(
            "grids_household",
            "number",
            "address",
            "tags",
            "priority",
            "public_code",
            "created_at",
            "grid_id",
            "representative_id",
            "head_id",
            "village_id",
        )
        t(
            "grids_resident",
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "relation",
            "status",
            "household_id",
        )
        t(
            "grids_representative",
            "kind",
            "card_number",
            "appointed_on",
            "ended_on",
            "verify_token",
            "grid_id",
            "user_id",
            "resident_id",
        )
        t(
            "grids_visit",
            "visited_at",
            "method",
            "note",
            "photo",
            "recorded_at",
            "household_id",
            "representative_id",
        )
        t("governance_requestcategory", "township_id", "name", "active")
        t("governance_department", "name", "ack_hours", "handle_days", "active", "township_id")
        t(
            "governance_request",
            "kind",
            "title",
            "description",
            "photo",
            "dispute_parties",
            "mediators",
            "mediation_agreement",
            "proposed_level",
            "level",
            "status",
            "reported_at",
            "triaged_at",
            "ack_deadline",
            "acknowledged_at",
            "deadline",
            "resolved_at",
            "resolved_level",
            "closed_at",
            "escalated",
            "satisfaction",
            "department_id",
            "handler_id",
            "household_id",
            "reported_by_id",
            "representative_id",
            "resident_id",
            "grid_id",
            "village_id",
            "category_id",
        )
        t(
            "governance_requestevent",
            "at",
            "action",
            "from_status",
            "to_status",
            "note",
            "actor_id",
            "request_id",
        )
        t("governance_returnvisit", "at", "satisfaction", "note", "by_id", "request_id")
        t("points_category", "name", "kind", "township_id")
        t(
            "points_pointsrule",
            "code",
            "name",
            "points",
            "subject",
            "needs_review",
            "allow_same_day_repeat",
            "black_list_offence",
            "active_from",
            "created_at",
            "category_id",
            "township_id",
        )
        t("points_account", "balance", "updated_at", "household_id")
        t(
            "points_ledgerentry",
            "kind",
            "rule_name",
            "points",
            "balance_after",
            "occurred_on",
            "recorded_at",
            "dedupe_key",
            "note",
            "account_id",
            "approved_by_id",
            "recorded_by_id",
            "resident_id",
            "rule_id",
            "redemption_id",
        )
        t("points_shop", "name", "village_id")
        t("points_product", "name", "points_price", "stock", "active", "shop_id")
        t(
            "points_stockmovement",
            "quantity",
            "kind",
            "donor",
            "cost_yuan",
            "note",
            "at",
            "by_id",
            "product_id",
            "redemption_id",
        )
        t(
            "points_redemption",
            "total_points",
            "at",
            "status",
            "request_key",
            "cancel_reason",
            "account_id",
            "by_id",
            "shop_id",
        )
        t("points_redemptionline", "quantity", "unit_points", "product_id", "redemption_id")
        t(
            "deliberation_meeting",
            "kind",
            "title",
            "venue",
            "venue_name",
            "scheduled_at",
            "urgent",
            "notice_text",
            "notice_published_at",
            "status",
            "held_at",
            "minutes",
            "resolutions",
            "created_at",
            "created_by_id",
            "grid_id",
            "village_id",
        )
        t(
            "deliberation_attendance",
            "recorded_at",
            "household_id",
            "recorded_by_id",
            "resident_id",
            "meeting_id",
        )

    def user(self, *, username: str, name: str, phone: str, role: str, **place) -> int:
        user_id = self.tables["grids_user"].add(
            self.password,
            False,
            username,
            "",
            "",
            "",
            role != "representative",
            True,
            self.start - dt.timedelta(days=30),
            phone,
            name,
            0,
            False,  # generated logins keep their password (no first-login change)
        )
        self.tables["grids_scope"].add(
            role, user_id, place.get("township"), place.get("village"), place.get("grid")
        )
        return user_id

    # - territory -

    def territory(self) -> None:
        tables = self.tables
        n_townships = math.ceil(self.n_villages / VILLAGES_PER_TOWNSHIP)
        self.villages: list[dict] = []
        created = self.start - dt.timedelta(days=365)
        per_village, extra = divmod(self.n_households, self.n_villages)
        for t in range(n_townships):
            code = f"431{self.seed % 10}{t + 1:05d}"
            township_id = tables["grids_township"].add(code, f"城{t + 1}镇", 3, 7, 15)
            town_user = self.user(
                username=f"gen-town-{township_id}",
                name=f"镇干部{t + 1}",
                phone="",
                role="township_staff",
                township=township_id,
            )
            categories = [
                tables["governance_requestcategory"].add(township_id, name, True)
                for name in REQUEST_CATEGORIES
            ]
            departments = [
                tables["governance_department"].add(name, 24, 15, True, township_id)
                for name in DEPARTMENTS
            ]
            points_categories = {
                name: tables["points_category"].add(name, "moral", township_id)
                for name in POINTS_CATEGORIES
            }
            rules = {
                code: (
                    tables["points_pointsrule"].add(
                        code,
                        name,
                        points,
                        "household",
                        False,
                        False,
                        black,
                        self.start_day - dt.timedelta(days=365),
                        created,
                        points_categories[category],
                        township_id,
                    ),
                    name,
                    points,
                )
                for code, name, points, category, black, _w in AWARD_RULES + DEDUCTION_RULES
            }
            count = min(VILLAGES_PER_TOWNSHIP, self.n_villages - t * VILLAGES_PER_TOWNSHIP)
            for v in range(count):
                index = t * VILLAGES_PER_TOWNSHIP + v
                village_code = f"{code}{v + 1:03d}"
                village_id = tables["grids_village"].add(
                    village_code,
                    f"城{t + 1}镇{v + 1}村",
                    "village",
                    5,
                    15,
                    7,
                    township_id,
                )
                staff = self.user(
                    username=f"gen-village-{village_id}",
                    name=f"村干部{index + 1}",
                    phone="",
                    role="village_staff",
                    village=village_id,
                )
                self.villages.append(
                    {
                        "id": village_id,
                        "code": village_code,
                        "index": index,
                        "township_id": township_id,
                        "households": per_village + (1 if index < extra else 0),
                        "staff": staff,
                        "town_user": town_user,
                        "categories": categories,
                        "departments": departments,
                        "rules": rules,
                        "area": f"4313{(index // VILLAGES_PER_TOWNSHIP) % 100:02d}",
                    }
                )

    # - people and their activity, village by village -

    def people_and_activity(self) -> None:
        self.id_seq: Counter = Counter()
        self.redeemed: Counter = Counter()  # product id → units redeemed
        self.grid_residents: dict[int, list[tuple[int, int]]] = {}
        self.kind_values = _cum(KIND_MIX)
        self.level_values = _cum(LEVEL_MIX)
        self.award_rules = _cum([(r[0], r[5]) for r in AWARD_RULES])
        self.deduction_rules = _cum([(r[0], r[5]) for r in DEDUCTION_RULES])
        self.award_counts = _cum(AWARD_COUNT_MIX)
        self.deduction_counts = _cum(DEDUCTION_COUNT_MIX)
        self.resident_counts = _cum(RESIDENT_COUNT_MIX)
        report_every = max(1, len(self.villages) // 10)
        tick = time.perf_counter()
        for n, village in enumerate(self.villages, start=1):
            self.village_shop(village)
            self.village_people(village)
            if n % report_every == 0:
                self.say(
                    f"    {n}/{len(self.villages)} villages, "
                    f"{self.tables['grids_household'].rows} households, "
                    f"{self.tables['grids_visit'].rows} visits, "
                    f"{self.tables['points_ledgerentry'].rows} ledger entries "
                    f"({time.perf_counter() - tick:.1f} s)"
                )

    def village_shop(self, village: dict) -> None:
        shop = self.tables["points_shop"].add("积分超市", village["id"])
        village["shop"] = shop
        # Products are written after the redemptions (their stock depends on them); reserve ids.
        village["products"] = []
        for name, price in PRODUCTS:
            village["products"].append((self.tables["points_product"].next_id, name, price))
            self.tables["points_product"].next_id += 1

    def village_people(self, village: dict) -> None:
        rng, tables = self.rng, self.tables
        n_grids = math.ceil(village["households"] / HOUSEHOLDS_PER_GRID)
        per_grid, extra = divmod(village["households"], n_grids)
        number = 0
        for g in range(n_grids):
            size = per_grid + (1 if g < extra else 0)
            grid_id = tables["grids_grid"].add(
                f"{village['code']}{g + 1:03d}", f"第{g + 1}网格", village["id"], None, None
            )
            reps = max(1, round(size / rng.uniform(8, 12)))
            reps = min(max(reps, math.ceil(size / 15)), max(1, size // 5))
            sizes = [size // reps + (1 if i < size % reps else 0) for i in range(reps)]
            self.grid_residents[grid_id] = []
            village.setdefault("grids", []).append(grid_id)
            for group_size in sizes:
                rep_id = tables["grids_representative"].next_id
                tables["grids_representative"].next_id += 1
                rep_user = None
                lazy_months = {m for m in self.months if rng.random() < LAZY_REP_MONTH_RATE}
                for k in range(group_size):
                    number += 1
                    household_id, head_id, head_name = self.household(
                        village, grid_id, number, rep_id
                    )
                    if k == 0:
                        rep_user = self.user(
                            username=f"gen-rep-{rep_id}",
                            name=head_name,
                            phone=f"19{rep_id:09d}",
                            role="representative",
                            village=village["id"],
                            grid=grid_id,
                        )
                        self.rep_row(rep_id, village, grid_id, rep_user, head_id)
                    self.activity(village, grid_id, household_id, head_id, rep_id, rep_user)
                    self.visits(household_id, rep_id, lazy_months)

    def rep_row(self, rep_id, village, grid_id, user_id, resident_id) -> None:
        table = self.tables["grids_representative"]
        saved = table.next_id
        table.next_id = rep_id
        table.add(
            "linked" if self.rng.random() < 0.9 else "part_time",
            f"LH{village['code']}{rep_id:07d}",
            self.start_day - dt.timedelta(days=self.rng.randrange(30, 900)),
            None,
            _code_from(rep_id, self.rng),
            grid_id,
            user_id,
            resident_id,
        )
        table.next_id = saved

    def id_number(self, area: str, birth: dt.date, male: bool) -> str:
        key = (area, birth)
        while True:
            seq = self.id_seq[key]
            self.id_seq[key] += 1
            # The 17th digit is odd for men, even for women: 500 numbers of each per day.
            if seq < 500:
                break
            birth += dt.timedelta(days=1)
            key = (area, birth)
        order = 2 * seq + (1 if male else 0)
        first17 = f"{area}{birth:%Y%m%d}{order:03d}"
        return first17 + id_check_char(first17)

    def household(self, village, grid_id, number, rep_id) -> tuple[int, int, str]:
        rng, tables = self.rng, self.tables
        household_id = tables["grids_household"].next_id
        head_id = tables["grids_resident"].next_id
        size = _pick(rng, self.resident_counts)
        head_male = rng.random() < 0.8
        head_birth = dt.date(1945, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 45))
        head_name = ""
        tags = []
        for k in range(size):
            if k == 0:
                male, birth, relation = head_male, head_birth, "户主"
            elif k == 1:
                male = not head_male
                birth = head_birth + dt.timedelta(days=rng.randrange(-1500, 1500))
                relation = "配偶"
            else:
                male = rng.random() < 0.5
                birth = head_birth + dt.timedelta(days=rng.randrange(365 * 20, 365 * 35))
                relation = "子" if male else "女"
            birth = min(birth, dt.date(2020, 12, 31))
            gender = "M" if male else "F"
            name = random_name(rng, gender)
            if k == 0:
                head_name = name
            status = "present" if rng.random() < 0.85 else "away"
            phone = f"1{rng.randrange(3, 9)}{rng.randrange(0, 10**9):09d}" if k < 2 else ""
            resident_id = tables["grids_resident"].add(
                name,
                gender,
                birth,
                self.id_number(village["area"], birth, male),
                phone,
                relation,
                status,
                household_id,
            )
            if len(self.grid_residents[grid_id]) < 60:
                self.grid_residents[grid_id].append((resident_id, household_id))
        if size == 1 and head_birth.year < 1960:
            tags.append("独居老人")
        elif rng.random() < 0.04:
            tags.append("低保")
        tables["grids_household"].add(
            f"{number:05d}",
            f"第{number // HOUSEHOLDS_PER_GRID + 1}组{number}号",
            "[" + ", ".join(f'"{tag}"' for tag in tags) + "]",
            bool(tags),
            _code_from(household_id, rng),
            self.start - dt.timedelta(days=365),
            grid_id,
            rep_id,
            head_id,
            village["id"],
        )
        return household_id, head_id, head_name

    def visits(self, household_id: int, rep_id: int, lazy_months: set) -> None:
        rng, table = self.rng, self.tables["grids_visit"]
        week = self.start
        span = 7 * 86400
        while week < self.horizon:
            if rng.random() < VISIT_WEEK_RATE:
                when = week + dt.timedelta(seconds=rng.randrange(span))
                local = when.astimezone(self.zone)
                if when < self.horizon and local.date().replace(day=1) not in lazy_months:
                    method = rng.random()
                    table.add(
                        when,
                        "in_person" if method < 0.7 else ("phone" if method < 0.9 else "wechat"),
                        VISIT_NOTES[rng.randrange(len(VISIT_NOTES))],
                        "",
                        when + dt.timedelta(minutes=rng.randrange(1, 240)),
                        household_id,
                        rep_id,
                    )
            week += dt.timedelta(days=7)

    # - requests and points -

    def activity(self, village, grid_id, household_id, head_id, rep_id, rep_user) -> None:
        rng = self.rng
        for month in self.months:
            if rng.random() < REQUEST_RATE:
                self.request(village, grid_id, household_id, head_id, rep_id, rep_user, month)
        self.ledger(village, household_id, head_id)

    def request(self, village, grid_id, household_id, head_id, rep_id, rep_user, month) -> None:
        rng, tables = self.rng, self.tables
        days = (_next_month(month) - month).days
        reported = self.at(month + dt.timedelta(days=rng.randrange(days)))
        kind = _pick(rng, self.kind_values)
        request_id = tables["governance_request"].next_id
        tables["governance_request"].next_id += 1
        staff, town_user = village["staff"], village["town_user"]
        row = {
            "status": "",
            "proposed_level": "grid",
            "level": "",
            "triaged_at": None,
            "ack_deadline": None,
            "acknowledged_at": None,
            "deadline": None,
            "resolved_at": None,
            "resolved_level": "",
            "closed_at": None,
            "escalated": False,
            "satisfaction": "",
            "department_id": None,
            "handler_id": None,
        }
        events = []

        def event(at, action, to_status, actor, note=""):
            events.append((at, action, row["status"], to_status, note, actor))
            row["status"] = to_status

        event(reported, "report", "reported", rep_user)
        t = reported
        if kind == "consultation":
            t += dt.timedelta(hours=rng.uniform(1, 48))
            if t < self.horizon:
                row.update(level="grid", resolved_at=t, resolved_level="grid", closed_at=t)
                event(t, "answer", "closed", rep_user, "已电话答复")
        else:
            level = _pick(rng, self.level_values)
            row["proposed_level"] = level
            escalate = level in NEXT_LEVEL and rng.random() < ESCALATE_RATE
            reopened = False
            while True:
                t += dt.timedelta(hours=rng.uniform(1, 24))
                if t >= self.horizon:
                    break
                deadline_day = t.astimezone(self.zone).date() + dt.timedelta(
                    days=DEADLINE_DAYS[level]
                )
                row.update(
                    level=level,
                    triaged_at=t,
                    deadline=dt.datetime.combine(
                        deadline_day, dt.time(23, 59, 59), tzinfo=self.zone
                    ),
                    department_id=(
                        rng.choice(village["departments"]) if level == "township" else None
                    ),
                    ack_deadline=t + dt.timedelta(hours=24) if level == "township" else None,
                    handler_id=staff if level == "village" else None,
                )
                event(t, "triage", "triaged", staff)
                handler = rep_user if level == "grid" else staff
                if level == "township":
                    t += dt.timedelta(hours=rng.uniform(1, 30))
                    if t >= self.horizon:
                        break
                    row.update(acknowledged_at=t, handler_id=town_user)
                    event(t, "acknowledge", "acknowledged", town_user)
                    handler = town_user
                t += dt.timedelta(hours=rng.uniform(0.5, 12))
                if t >= self.horizon:
                    break
                event(t, "start", "in_progress", handler)
                if escalate:
                    t += dt.timedelta(days=rng.uniform(0.5, 2))
                    if t >= self.horizon:
                        break
                    level = NEXT_LEVEL[level]
                    row.update(
                        proposed_level=level,
                        level="",
                        handler_id=None,
                        deadline=None,
                        escalated=True,
                    )
                    event(t, "escalate", "reported", handler, "超出网格处理能力，申请上报")
                    escalate = False
                    continue
                while True:
                    low, high = RESOLVE_DAYS[level]
                    t += dt.timedelta(days=rng.uniform(low, high))
                    if t >= self.horizon:
                        break
                    row.update(resolved_at=t, resolved_level=level)
                    event(t, "resolve", "resolved", handler, "已办结")
                    if rng.random() >= RETURN_VISIT_RATE:
                        break
                    t += dt.timedelta(days=rng.uniform(0.5, 3))
                    if t >= self.horizon:
                        break
                    satisfaction = _pick(rng, _cum(SATISFACTION_MIX))
                    if reopened and satisfaction == "unsatisfied":
                        satisfaction = "basically"
                    tables["governance_returnvisit"].add(t, satisfaction, "", rep_user, request_id)
                    row["satisfaction"] = satisfaction
                    if satisfaction == "unsatisfied":
                        row.update(resolved_at=None, resolved_level="")
                        event(t, "reopen", "in_progress", rep_user, "群众不满意，重新办理")
                        reopened = True
                        continue
                    row["closed_at"] = t
                    event(t, "return_visit", "closed", rep_user)
                    break
                break
        title = rng.choice(REQUEST_TITLES[kind])
        table = tables["governance_request"]
        saved = table.next_id
        table.next_id = request_id
        table.add(
            kind,
            title,
            f"{title}，请帮助解决。",
            "",
            "张某与李某" if kind == "dispute" else "",
            "",
            "",
            row["proposed_level"],
            row["level"],
            row["status"],
            reported,
            row["triaged_at"],
            row["ack_deadline"],
            row["acknowledged_at"],
            row["deadline"],
            row["resolved_at"],
            row["resolved_level"],
            row["closed_at"],
            row["escalated"],
            row["satisfaction"],
            row["department_id"],
            row["handler_id"],
            household_id,
            rep_user,
            rep_id,
            head_id,
            grid_id,
            village["id"],
            rng.choice(village["categories"]),
        )
        table.next_id = saved
        for at, action, from_status, to_status, note, actor in events:
            tables["governance_requestevent"].add(
                at, action, from_status, to_status, note, actor, request_id
            )

    def ledger(self, village, household_id, head_id) -> None:
        rng, tables = self.rng, self.tables
        rules = village["rules"]
        staff = village["staff"]
        account_id = tables["points_account"].next_id
        tables["points_account"].next_id += 1
        # (day, order, kind, rule code or product) in date order; the base grant comes first.
        items = [(self.start_day, 0, "base", None)]
        for month in self.months:
            days = (_next_month(month) - month).days
            for _ in range(_pick(rng, self.award_counts)):
                code = _pick(rng, self.award_rules)
                items.append((month + dt.timedelta(days=rng.randrange(days)), 1, "award", code))
            for _ in range(_pick(rng, self.deduction_counts)):
                code = _pick(rng, self.deduction_rules)
                day = month + dt.timedelta(days=rng.randrange(days))
                items.append((day, 2, "deduction", code))
            if rng.random() < REDEEM_RATE:
                product = village["products"][rng.randrange(len(village["products"]))]
                day = month + dt.timedelta(days=rng.randrange(days))
                items.append((day, 3, "redemption", product))
        items.sort(key=lambda item: (item[0], item[1]))
        balance = 0
        ledger = tables["points_ledgerentry"]
        for day, _order, kind, what in items:
            recorded = self.at(day, 9, 18)
            redemption = rule_id = approved = None
            if kind == "base":
                points, name = BASE_POINTS, "基础分"
            elif kind == "redemption":
                product_id, product_name, price = what
                if balance < price:
                    continue
                points, name = -price, f"兑换{product_name}"
                redemption = tables["points_redemption"].add(
                    price,
                    recorded,
                    "done",
                    f"gen-{self.seed}-{tables['points_redemption'].next_id}",
                    "",
                    account_id,
                    staff,
                    village["shop"],
                )
                tables["points_redemptionline"].add(1, price, product_id, redemption)
                tables["points_stockmovement"].add(
                    -1, "redemption", "", None, "", recorded, staff, product_id, redemption
                )
                self.redeemed[product_id] += 1
            else:
                rule_id, name, points = rules[what]
                if balance + points < 0:
                    continue
                approved = staff if kind == "award" else None
            balance += points
            ledger.add(
                kind,
                name,
                points,
                balance,
                day,
                recorded,
                "",
                "",
                account_id,
                approved,
                staff,
                head_id if kind != "redemption" else None,
                rule_id,
                redemption,
            )
        table = tables["points_account"]
        saved = table.next_id
        table.next_id = account_id
        table.add(balance, self.horizon, household_id)
        table.next_id = saved

    # - shops' stock and meetings -

    def shop_stock(self) -> None:
        tables = self.tables
        bought_at = self.start - dt.timedelta(days=3)
        for village in self.villages:
            for product_id, name, price in village["products"]:
                redeemed = self.redeemed[product_id]
                bought = max(50, redeemed + 20)
                donated = 10 if self.rng.random() < 0.3 else 0
                table = tables["points_product"]
                saved = table.next_id
                table.next_id = product_id
                table.add(name, price, bought + donated - redeemed, True, village["shop"])
                table.next_id = saved
                tables["points_stockmovement"].add(
                    bought,
                    "purchase",
                    "",
                    f"{bought * price / 10:.2f}",
                    "",
                    bought_at,
                    village["staff"],
                    product_id,
                    None,
                )
                if donated:
                    tables["points_stockmovement"].add(
                        donated,
                        "donation",
                        "乡贤捐赠",
                        None,
                        "",
                        bought_at,
                        village["staff"],
                        product_id,
                        None,
                    )

    def meetings(self) -> None:
        rng, tables = self.rng, self.tables
        for village in self.villages:
            grid_ids = village["grids"]
            for month in self.months:
                days = (_next_month(month) - month).days
                for _ in range(MEETINGS_PER_VILLAGE):
                    grid_id = rng.choice(grid_ids)
                    kind, venue, venue_label = rng.choice(MEETING_KINDS)
                    if rng.random() < 0.3:
                        kind = "yehua"
                    held = self.at(month + dt.timedelta(days=rng.randrange(days)), 19, 21)
                    topic = rng.choice(MEETING_TOPICS)
                    meeting_id = tables["deliberation_meeting"].add(
                        kind,
                        f"{topic}{'夜话' if kind == 'yehua' else '会'}",
                        venue,
                        venue_label,
                        held,
                        False,
                        f"定于{held:%m月%d日}召开{topic}会议",
                        held - dt.timedelta(days=3),
                        "held",
                        held,
                        "会议记录见附件",
                        "形成决议，按程序公示",
                        held - dt.timedelta(days=3),
                        village["staff"],
                        grid_id,
                        village["id"],
                    )
                    pool = self.grid_residents[grid_id]
                    for resident_id, household_id in rng.sample(
                        pool, min(len(pool), rng.randrange(15, 31))
                    ):
                        tables["deliberation_attendance"].add(
                            held + dt.timedelta(hours=2),
                            household_id,
                            village["staff"],
                            resident_id,
                            meeting_id,
                        )
