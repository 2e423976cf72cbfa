"""Time the monthly analysis and the quarterly lists on a generated township (docs/reports.md)."""

import datetime as dt
import random
import time
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError

from governance import analysis, jobs
from governance.models import Request
from grids.models import Grid, Household, Representative, Resident, Township, Village, Visit

SH = ZoneInfo("Asia/Shanghai")


class Command(BaseCommand):
    help = "在新建的基准测试镇上测量月度分析和季度红黑榜的耗时（勿在生产库运行）"

    def add_arguments(self, parser):
        parser.add_argument("--villages", type=int, default=50)
        parser.add_argument("--households", type=int, default=400, help="每村户数")
        parser.add_argument("--code", default="439999001", help="基准测试镇代码（须不存在）")

    def handle(self, *args, villages, households, code, **options):
        if Township.objects.filter(code=code).exists():
            raise CommandError(f"乡镇{code}已存在，请换一个 --code")
        rng = random.Random(1)
        township = Township.objects.create(code=code, name="基准测试镇")
        made = Village.objects.bulk_create(
            Village(township=township, code=f"{code}{i:03d}", name=f"测试村{i}")
            for i in range(villages)
        )
        grids = Grid.objects.bulk_create(
            Grid(village=v, code=f"{v.code}001", name="第一网格") for v in made
        )
        homes = Household.objects.bulk_create(
            Household(village=g.village, grid=g, number=f"{n:04d}")
            for g in grids
            for n in range(households)
        )
        heads = Resident.objects.bulk_create(
            Resident(household=h, name="王某", relation="户主")
            for h in homes[:: max(1, households // 20)]
        )
        reps = Representative.objects.bulk_create(
            Representative(
                resident=r,
                grid=r.household.grid,
                card_number=f"B{code}{r.pk}",
                appointed_on=dt.date(2024, 1, 1),
            )
            for r in heads
        )
        by_village: dict[int, list] = {}
        for rep in reps:
            by_village.setdefault(rep.grid.village_id, []).append(rep)
        visits = [
            Visit(
                representative=rng.choice(by_village[h.village_id]),
                household=h,
                visited_at=dt.datetime(2026, 10, rng.randint(1, 31), rng.randint(0, 23), tzinfo=SH),
            )
            for h in homes
            for _ in range(4)
        ]
        Visit.objects.bulk_create(visits, batch_size=5000)
        requests = []
        for v in made:
            for _ in range(40):
                rep = rng.choice(by_village[v.pk])
                at = dt.datetime(2026, 10, rng.randint(1, 28), 9, tzinfo=SH)
                done = rng.random() < 0.7
                requests.append(
                    Request(
                        village=v,
                        grid=rep.grid,
                        household=rep.resident.household,
                        representative=rep,
                        title="基准",
                        level="grid",
                        status="closed" if done else "in_progress",
                        reported_at=at,
                        resolved_at=at + dt.timedelta(days=2) if done else None,
                        resolved_level="grid" if done else "",
                        closed_at=at + dt.timedelta(days=3) if done else None,
                        deadline=at + dt.timedelta(days=3),
                    )
                )
        Request.objects.bulk_create(requests)
        self.stdout.write(
            f"{len(homes)}户，{len(visits)}次走访，{len(requests)}件诉求（2026年10月）"
        )
        params = {"township": code}
        start = time.monotonic()
        n = jobs.run_monthly({**params, "month": "2026-10"})
        self.stdout.write(f"月度分析：{n}份快照，用时{time.monotonic() - start:.2f}秒")
        start = time.monotonic()
        analysis.village_figures([v.pk for v in made], dt.date(2026, 10, 1))
        self.stdout.write(f"全镇各村指标一次计算：用时{time.monotonic() - start:.2f}秒")
        start = time.monotonic()
        n = jobs.run_lists({**params, "quarter": "2026Q4"})
        self.stdout.write(f"季度红黑榜：{n}项，用时{time.monotonic() - start:.2f}秒")
