"""python manage.py bench — the scale benchmarks against the current (generated) database.

Medians of ``--runs`` runs, each with the load average beside it (other work on the machine
makes single figures noisy):

1. the monthly analysis for one month (``analysis.monthly_analysis_run``) against the floor:
   bare SQL computing the same figures for every village (governance/bench_sql.py);
2. the quarterly red/black lists of every village (``points.lists.ListsRun``, as the job runs
   them) against its floor;
   the quarter's publications are deleted before each run (the service skips a published list);
3. the roster import of ``--households`` households (bench_import's roster and timing), each run
   in a transaction rolled back afterwards so the city stays as generated;
4. the web under load: gunicorn on 127.0.0.1 (a free port, DEBUG off) driven by ``--users``
   concurrent closed-loop clients (threads with ``http.client``) for at most ``--seconds`` and
   ``--max-requests`` per page.

Both results are checked against the floor (the figures must agree) before they are reported.
The report is a section of ``--report`` (replaced on a re-run with the same data size).
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from governance import analysis, bench_sql
from governance.models import MonthlyReport
from grids.models import Representative, Role, Scope, User, Village
from points.lists import ListsRun, previous_quarter, quarter_bounds
from points.models import ListEntry, ListPublication

SIZE_TABLES = (
    ("grids_village", "村"),
    ("grids_grid", "网格"),
    ("grids_household", "户"),
    ("grids_resident", "村民"),
    ("grids_representative", "联户代表"),
    ("grids_visit", "走访"),
    ("governance_request", "诉求"),
    ("governance_requestevent", "诉求事件"),
    ("points_ledgerentry", "积分流水"),
    ("deliberation_meeting", "会议"),
    ("deliberation_attendance", "参会"),
)


def _load() -> float:
    return os.getloadavg()[0]


def _median(values):
    return statistics.median(values) if values else None


def _pct(values, q: float):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Command(BaseCommand):
    help = "规模基准测试：月度分析、红黑榜、花名册导入与并发访问，结果写入报告"

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=12310, help="花名册导入的户数")
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--report", default="docs/benchmarks.md")
        parser.add_argument("--month", help="YYYY-MM，默认上个月")
        parser.add_argument("--quarter", help="YYYYQn，默认上一个完整季度")
        parser.add_argument("--users", type=int, default=50, help="并发用户数")
        parser.add_argument("--seconds", type=float, default=15.0, help="每个页面最长压测秒数")
        parser.add_argument("--max-requests", type=int, default=3000, help="每个页面最多请求数")
        parser.add_argument(
            "--think",
            type=float,
            default=1.0,
            help="“有思考时间”一轮中每个用户两次请求之间的平均间隔秒数（0.5–1.5倍均匀分布）",
        )
        parser.add_argument(
            "--label", default="", help="报告小节的附加标题（区分同一规模的多次测试）"
        )
        parser.add_argument("--skip-jobs", action="store_true")
        parser.add_argument("--skip-import", action="store_true")
        parser.add_argument("--skip-web", action="store_true")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench 需要 PostgreSQL（请设置 DATABASE_URL）")
        if options["runs"] < 1:
            raise CommandError("--runs 至少为1")
        today = timezone.localdate()
        month = (
            analysis.parse_month(options["month"])
            if options["month"]
            else analysis.previous_month(today)
        )
        quarter = options["quarter"] or previous_quarter(today)
        quarter_bounds(quarter)
        self.runs = options["runs"]
        self.lines: list[str] = []
        machine = self.machine()
        sizes = self.sizes()
        households = dict((label, n) for (_t, label), n in zip(SIZE_TABLES, sizes, strict=True))[
            "户"
        ]
        self.say(f"data: {households} households; machine: {machine}")
        results: dict[str, dict] = {}
        if not options["skip_jobs"]:
            results["monthly"] = self.bench_monthly(month)
            results["lists"] = self.bench_lists(quarter)
        if not options["skip_web"]:
            results["web"] = self.bench_web(options, quarter)
        if not options["skip_import"]:
            results["import"] = self.bench_import(options["households"])
        section = self.render(options, machine, sizes, households, month, quarter, results)
        key = f"{households}{'-' + options['label'] if options['label'] else ''}"
        self.write_report(Path(options["report"]), key, section)
        self.say(f"report: {options['report']}")

    # --- context ----------------------------------------------------------------------------

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def machine(self) -> dict:
        meminfo = Path("/proc/meminfo")
        memory = ""
        if meminfo.exists():
            for line in meminfo.read_text().splitlines():
                if line.startswith("MemTotal:"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg = cursor.fetchone()[0]
            cursor.execute("SHOW random_page_cost")
            pg += f", random_page_cost {cursor.fetchone()[0]}"
        return {
            "nproc": os.cpu_count(),
            "memory": memory,
            "cpu": platform.processor() or platform.machine(),
            "postgresql": pg,
            "python": platform.python_version(),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "started": timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
        }

    def sizes(self) -> list[int]:
        with connection.cursor() as cursor:
            out = []
            for table, _label in SIZE_TABLES:
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (constants)
                out.append(cursor.fetchone()[0])
            return out

    def timed(self, label: str, func, before=None) -> list[tuple[float, float]]:
        """[(seconds, load average at start)] for each run."""
        samples = []
        for run in range(1, self.runs + 1):
            if before:
                before()
            load = _load()
            started = time.perf_counter()
            func()
            seconds = time.perf_counter() - started
            samples.append((seconds, load))
            self.say(f"  {label} run {run}: {seconds:.2f} s (load {load:.2f})")
        return samples

    # --- jobs -------------------------------------------------------------------------------

    def bench_monthly(self, month: dt.date) -> list[dict]:
        """Two figures: the first month a city runs (no stored report for the month before, so
        the change column computes what it compares for it: floor = the month plus those
        families of the month before) and the steady state (last month's report stored when that
        month ended: floor = the month alone)."""
        before = analysis.previous_month(month)

        def forget_last_month():
            MonthlyReport.objects.filter(month=before).delete()

        def run():
            analysis.monthly_analysis_run(month=month)

        self.say(f"monthly analysis {month:%Y-%m}, first month …")
        first = self.timed("service", run, before=forget_last_month)
        first_floor = self.timed("bare SQL", lambda: bench_sql.monthly_floor_with_previous(month))
        self.say(f"monthly analysis {before:%Y-%m} (untimed: last month's reports) …")
        analysis.monthly_analysis_run(month=before)
        self.say(f"monthly analysis {month:%Y-%m}, steady state …")
        steady = self.timed("service", run)
        steady_floor = self.timed("bare SQL", lambda: bench_sql.monthly_floor(month))
        problems = bench_sql.monthly_mismatches(month)
        for problem in problems[:10]:
            self.say(f"  MISMATCH {problem}")
        return [
            {
                "label": f"{month:%Y-%m}, first month",
                "service": first,
                "floor": first_floor,
                "ok": not problems,
            },
            {
                "label": f"{month:%Y-%m}, steady state",
                "service": steady,
                "floor": steady_floor,
                "ok": not problems,
            },
        ]

    def bench_lists(self, quarter: str) -> dict:
        self.say(f"red/black lists {quarter} …")
        villages = list(Village.objects.select_related("township").order_by("code"))
        start, end = quarter_bounds(quarter)

        def clear():
            with transaction.atomic():
                ListEntry.objects.filter(publication__quarter=quarter).delete()
                ListPublication.objects.filter(quarter=quarter).delete()

        def publish_all():
            run = ListsRun(villages, quarter)
            for village in villages:
                run.publish(village)

        service = self.timed("service", publish_all, before=clear)
        floor = self.timed(
            "bare SQL", lambda: bench_sql.lists_floor(start=start, end=end, top_n=10)
        )
        problems = bench_sql.lists_mismatches(quarter)
        for problem in problems[:10]:
            self.say(f"  MISMATCH {problem}")
        entries = ListEntry.objects.filter(publication__quarter=quarter).count()
        return {
            "label": quarter,
            "service": service,
            "floor": floor,
            "ok": not problems,
            "villages": len(villages),
            "entries": entries,
        }

    # --- roster import ----------------------------------------------------------------------

    def bench_import(self, households: int) -> dict:
        from grids.management.commands.bench_import import Command as ImportBench
        from grids.management.commands.bench_import import _write_csv, synthetic_roster

        self.say(f"roster import of {households} households …")
        helper = ImportBench()
        samples = []
        residents = 0
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "roster.csv"
            for run in range(1, self.runs + 1):
                with transaction.atomic():
                    village, grids = helper._fresh_village(households)
                    rows = synthetic_roster(
                        rng=random.Random(2026), village=village, grids=grids, households=households
                    )
                    residents = len(rows)
                    _write_csv(path, rows)
                    load = _load()
                    started = time.perf_counter()
                    report, _seconds = helper._timed(path, village)
                    with connection.cursor() as cursor:
                        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the commit's FK checks
                    seconds = time.perf_counter() - started
                    if report.residents.created != residents:
                        raise CommandError("花名册导入结果不正确")
                    transaction.set_rollback(True)
                samples.append((seconds, load))
                self.say(f"  import run {run}: {seconds:.2f} s (load {load:.2f})")
        return {"households": households, "residents": residents, "service": samples}

    # --- web --------------------------------------------------------------------------------

    def bench_web(self, options: dict, quarter: str) -> dict:
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            raise CommandError("并发测试需要 DATABASE_URL（gunicorn 连接同一个数据库）")
        users = options["users"]
        reps = list(
            Representative.objects.filter(ended_on__isnull=True, user__isnull=False)
            .order_by("id")
            .values_list("id", "user_id")[: users * 20 : 20]
        )
        if not reps:
            raise CommandError("没有联户代表：请先运行 generate_city")
        rep_households = {}
        from grids.models import Household

        for rep_id, _user in reps:
            rep_households[rep_id] = list(
                Household.objects.filter(representative_id=rep_id).values_list("id", flat=True)
            )
        staff_ids = list(
            Scope.objects.filter(role=Role.TOWNSHIP_STAFF)
            .order_by("id")
            .values_list("user_id", flat=True)[:users]
        )
        # The notice boards of one township (20 villages): each gunicorn worker's cache warms as
        # it would in a day of scanning the printed QR codes.
        codes = list(
            ListPublication.objects.filter(status=ListPublication.Status.PUBLISHED)
            .values_list("village__code", flat=True)
            .distinct()[:20]
        ) or list(Village.objects.values_list("code", flat=True)[:20])
        rep_sessions = [(self.session_for(user_id), rep_id) for rep_id, user_id in reps]
        staff_sessions = [self.session_for(user_id) for user_id in staff_ids]
        port = _free_port()
        var_dir = Path(tempfile.mkdtemp(prefix="vg-bench-"))
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "0",
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
        }
        workers = 2 * (os.cpu_count() or 1)
        threads = 4
        self.say("collecting static files for DEBUG=0 …")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            env=env,
            check=True,
            cwd=settings.BASE_DIR,
        )
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "governance.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ]
        server = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603
        results = {"server": f"gunicorn gthread, {workers} workers × {threads} threads"}
        try:
            _wait_for(port, "/healthz")
            token = secrets.token_hex(16)  # a 32-character CSRF secret, also the form token
            scenarios = [
                ("trivial view /healthz", lambda i: ("GET", "/healthz", None, None), 200),
                (
                    "rep home /rep/",
                    lambda i: ("GET", "/rep/", rep_sessions[i % len(rep_sessions)][0], None),
                    200,
                ),
                (
                    "visit submission POST /rep/visits/new/",
                    lambda i: self.visit_post(i, rep_sessions, rep_households, token),
                    302,
                ),
                (
                    "staff request queue /staff/requests/",
                    lambda i: (
                        "GET",
                        "/staff/requests/",
                        staff_sessions[i % len(staff_sessions)],
                        None,
                    ),
                    200,
                ),
                (
                    "public lists /p/<village>/lists/",
                    lambda i: ("GET", f"/p/{codes[i % len(codes)]}/lists/", None, None),
                    200,
                ),
            ]
            modes = (
                ("single", 0.0, 1, 100),
                ("think", options["think"], users, options["max_requests"]),
                ("saturation", 0.0, users, options["max_requests"]),
            )
            for mode, think, concurrent, budget in modes:
                results[mode] = {}
                for label, make, expect in scenarios:
                    outcome = _drive(
                        port,
                        make,
                        expect,
                        users=concurrent,
                        seconds=options["seconds"],
                        max_requests=budget,
                        token=token,
                        think=think,
                    )
                    results[mode][label] = outcome
                    self.say(
                        f"  [{mode}] {label}: {outcome['n']} requests, "
                        f"p50 {outcome['p50']:.0f} ms, p95 {outcome['p95']:.0f} ms, "
                        f"{outcome['rps']:.0f} req/s, {outcome['errors']} errors "
                        f"(load {outcome['load']:.2f})"
                    )
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            shutil.rmtree(var_dir, ignore_errors=True)
        return results

    def session_for(self, user_id: int) -> str:
        engine = import_module(settings.SESSION_ENGINE)
        user = User.objects.get(pk=user_id)
        store = engine.SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return store.session_key

    @staticmethod
    def visit_post(i, rep_sessions, rep_households, token):
        session, rep_id = rep_sessions[i % len(rep_sessions)]
        households = rep_households[rep_id]
        body = urllib.parse.urlencode(
            {
                "household": households[i % len(households)],
                "method": "in_person",
                "note": "压测走访",
                "csrfmiddlewaretoken": token,
            }
        )
        return ("POST", "/rep/visits/new/", session, body)

    # --- report -----------------------------------------------------------------------------

    def render(self, options, machine, sizes, households, month, quarter, results) -> str:
        out = []
        w = out.append
        argv = " ".join(sys.argv[1:]) or "bench"
        label = f" ({options['label']})" if options["label"] else ""
        w(f"## {households:,} households{label}\n")
        w(
            f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']} RAM, "
            f"PostgreSQL {machine['postgresql']}, Python {machine['python']}; "
            f"load average at start {machine['load']}; started {machine['started']}.  "
        )
        w(f"Command: `manage.py {argv}`; {self.runs} runs per figure, medians.  ")
        w(
            "Data: "
            + ", ".join(f"{n:,} {label}" for (_t, label), n in zip(SIZE_TABLES, sizes, strict=True))
            + ".\n"
        )
        w("Every figure has the 1-minute load average measured when it started next to it: other")
        w("work on the two cores slows a figure, while ratios measured in the same run hold.\n")
        checks = target_checks(results)
        if checks:
            w("| target | measured | met |")
            w("| --- | ---: | --- |")
            for target, measured, met in checks:
                w(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
            w("")
        if "monthly" in results:
            w("| job | service (median) | bare SQL floor (median) | ratio | figures agree |")
            w("| --- | ---: | ---: | ---: | --- |")
            rows = [("monthly analysis", r) for r in results["monthly"]]
            rows.append(("red/black lists", results["lists"]))
            for name, r in rows:
                service = _median([s for s, _l in r["service"]])
                floor = _median([s for s, _l in r["floor"]])
                loads = "/".join(f"{load:.1f}" for _s, load in r["service"])
                w(
                    f"| {name} {r['label']} | {service:.2f} s (load {loads}) | {floor:.2f} s | "
                    f"{service / floor:.1f}× | {'yes' if r['ok'] else 'NO'} |"
                )
            lists = results["lists"]
            w("")
            w(
                f"Lists: {lists['villages']} villages, {lists['entries']} entries published. "
                "Monthly analysis: every village and township snapshot of the month. In the "
                "first month the change column needs what it compares computed for the month "
                "before too (floor: the month, and those figure families of the month before); "
                "in the steady state it reads last month's stored reports "
                "(floor: the month alone). The floor computes each month's figures for all "
                "villages at once.\n"
            )
        if "import" in results:
            r = results["import"]
            seconds = _median([s for s, _l in r["service"]])
            loads = "/".join(f"{load:.1f}" for _s, load in r["service"])
            w(
                f"Roster import: {r['households']:,} households, {r['residents']:,} residents: "
                f"**{seconds:.1f} s** median (load {loads}); each run in a transaction rolled "
                "back after the foreign-key checks.\n"
            )
        if "web" in results:
            web = results["web"]
            w(
                f"Web ({web['server']}, DEBUG off, loopback; {options['users']} concurrent "
                f"users, at most {options['seconds']:.0f} s or {options['max_requests']} "
                "requests per page; the load generator runs on the same two cores):\n"
            )
            titles = {
                "single": "One user, one request after the other (at most 100): the page's own "
                "latency, the figure to compare across data sizes",
                "think": f"{options['users']} users pausing {options['think']:.1f} s on average "
                "between requests",
                "saturation": f"{options['users']} users without pause (closed loop): the "
                "server's throughput",
            }
            for mode in ("single", "think", "saturation"):
                w(f"{titles[mode]}:\n")
                w("| page | requests | p50 | p95 | req/s | errors | req/s vs trivial | load |")
                w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
                ceiling = web[mode].get("trivial view /healthz", {}).get("rps") or 0
                for label, r in web[mode].items():
                    ratio = f"{r['rps'] / ceiling:.2f}" if ceiling else "–"
                    w(
                        f"| {label} | {r['n']} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | "
                        f"{r['rps']:.0f} | {r['errors']} | {ratio} | {r['load']:.2f} |"
                    )
                w("")
        return "\n".join(out) + "\n"

    def write_report(self, path: Path, key: str, section: str) -> None:
        begin, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
        block = f"{begin}\n{section}{end}\n"
        text = path.read_text(encoding="utf-8") if path.exists() else "# Scale benchmarks\n\n"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            _old, tail = rest.split(end, 1)
            text = head + block + tail.lstrip("\n")
        else:
            text = text.rstrip("\n") + "\n\n" + block
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# --- the targets (issue: scale) ----------------------------------------------------------------

JOB_SECONDS, JOB_RATIO, IMPORT_SECONDS = 30.0, 3.0, 60.0
# page label in the web results → the p95 it must stay under with users pausing between requests
P95_TARGETS = {
    "rep home /rep/": 150,
    "visit submission POST /rep/visits/new/": 150,
    "staff request queue /staff/requests/": 300,
}
PUBLIC_LISTS, PUBLIC_RPS = "public lists /p/<village>/lists/", 500


def target_checks(results: dict) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target the results have a figure for."""
    checks = []
    jobs = [(f"monthly analysis {r['label']}", r) for r in results.get("monthly", [])]
    if "lists" in results:
        jobs.append((f"red/black lists {results['lists']['label']}", results["lists"]))
    for name, r in jobs:
        service = _median([s for s, _l in r["service"]])
        floor = _median([s for s, _l in r["floor"]])
        checks.append((f"{name} < {JOB_SECONDS:.0f} s", f"{service:.1f} s", service < JOB_SECONDS))
        checks.append(
            (
                f"{name} ≤ {JOB_RATIO:.0f}× its SQL floor",
                f"{service / floor:.1f}×",
                service <= JOB_RATIO * floor and r["ok"],
            )
        )
    if "import" in results:
        seconds = _median([s for s, _l in results["import"]["service"]])
        checks.append(
            (
                f"roster import of {results['import']['households']:,} households < 60 s",
                f"{seconds:.1f} s",
                seconds < IMPORT_SECONDS,
            )
        )
    web = results.get("web", {})
    for label, limit in P95_TARGETS.items():
        r = web.get("think", {}).get(label)
        if r:
            checks.append(
                (
                    f"{label} p95 < {limit} ms (users pausing)",
                    f"{r['p95']:.0f} ms",
                    r["p95"] < limit and not r["errors"],
                )
            )
    r = web.get("saturation", {}).get(PUBLIC_LISTS)
    if r:
        checks.append(
            (
                f"{PUBLIC_LISTS} ≥ {PUBLIC_RPS} req/s",
                f"{r['rps']:.0f} req/s",
                r["rps"] >= PUBLIC_RPS and not r["errors"],
            )
        )
    return checks


# --- the load generator ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise CommandError("gunicorn 没有在60秒内启动")


def _drive(port, make, expect, *, users, seconds, max_requests, token, think=0.0) -> dict:
    """``users`` threads each send one request after the other (pausing ``think`` seconds on
    average between them; 0 = saturation) until the time or the request budget is spent.
    Latency is measured per request on the client."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(max_requests))
    load = _load()
    stop_at = time.monotonic() + seconds

    def worker(seed: int):
        pause = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if think:
            time.sleep(pause.uniform(0, think))  # users do not all start in the same instant
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            method, path, session, body = make(i)
            headers = {"Host": "127.0.0.1", "Cookie": f"csrftoken={token}"}
            if session:
                headers["Cookie"] += f"; sessionid={session}"
            if body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == expect
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors[0] += 1
            if think:
                time.sleep(pause.uniform(0.5 * think, 1.5 * think))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    return {
        "n": len(ms),
        "p50": _pct(ms, 0.5) or 0.0,
        "p95": _pct(ms, 0.95) or 0.0,
        "rps": len(ms) / wall if wall else 0.0,
        "errors": errors[0],
        "load": load,
    }
