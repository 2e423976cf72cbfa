"""python manage.py bench_points [--households 2000] [--days 50] [--claims 1000]

Times the two heavy write paths on the configured database, in a fresh village of a
基准测试镇 (the ledger is append-only, so each run adds a new village instead of cleaning up):

1. households × days ledger entries through the bulk-award path (default 100,000): each day one
   批量申报 of every household, submitted by one clerk (``claim_batch_submit``) and approved by
   another (``claim_batch_approve``, which writes the day's entries in bulk);
2. submitting and then approving ``claims`` claims, one service call each (default 1,000);

then the consistency check over every account. Prints the figures for docs/benchmarks.md.
"""

from __future__ import annotations

import datetime as dt
import platform
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from grids.models import Household, Role, Township, Village
from grids.services import grid_create, scope_assign, township_create, village_create
from points import services
from points.models import Account, Claim, LedgerEntry

BENCH_TOWNSHIP_CODE = "430903198"
HOUSEHOLDS_PER_GRID = 50


class Command(BaseCommand):
    help = "积分基准测试：批量记分写入10万条流水、审批1000条申报"

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=2000)
        parser.add_argument("--days", type=int, default=50)
        parser.add_argument("--claims", type=int, default=1000)

    def handle(self, *args, households: int, days: int, claims: int, **options):
        clerk, approver, village, household_list = self._fresh_village(households)
        category = services.township_categories_ensure(actor=clerk, township=village.township)[5]
        today = timezone.localdate()
        start = today - dt.timedelta(days=days)
        rule = services.rule_create(
            actor=clerk,
            village=village,
            category=category,
            code="BENCH-DAY",
            name="环境整治日",
            points=2,
            max_per_month=31,
            active_from=start,
        )
        self.stdout.write(
            f"数据库 {connection.vendor}，Python {platform.python_version()}，"
            f"{len(household_list)}户 × {days}天"
        )

        batch_submit_seconds = batch_approve_seconds = 0.0
        for offset in range(days):
            t0 = time.perf_counter()
            batch = services.claim_batch_submit(
                actor=clerk,
                rule=rule,
                households=household_list,
                occurred_on=start + dt.timedelta(days=offset),
            )
            t1 = time.perf_counter()
            services.claim_batch_approve(actor=approver, batch=batch)
            batch_submit_seconds += t1 - t0
            batch_approve_seconds += time.perf_counter() - t1
        bulk_seconds = batch_submit_seconds + batch_approve_seconds
        entries = LedgerEntry.objects.filter(rule=rule).count()
        self.stdout.write(
            f"批量记分：{entries}条流水，用时{bulk_seconds:.1f}秒，"
            f"每秒{entries / bulk_seconds:,.0f}条（每天一批{len(household_list)}户："
            f"提交{batch_submit_seconds:.1f}秒，审核记分{batch_approve_seconds:.1f}秒，"
            f"各一个事务）"
        )

        claim_rule = services.rule_create(
            actor=clerk,
            village=village,
            category=category,
            code="BENCH-CLAIM",
            name="志愿服务",
            points=10,
            max_per_year=5,
            active_from=start,
        )
        targets = [household_list[i % len(household_list)] for i in range(claims)]
        t0 = time.perf_counter()
        submitted = []
        for i, household in enumerate(targets):
            submitted.append(
                services.claim_submit(
                    actor=clerk,
                    household=household,
                    rule=claim_rule,
                    occurred_on=today - dt.timedelta(days=i // len(household_list)),
                )
            )
        submit_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        for claim in submitted:
            services.claim_approve(actor=approver, claim=claim)
        approve_seconds = time.perf_counter() - t0
        approved = Claim.objects.filter(rule=claim_rule, status="approved").count()
        self.stdout.write(
            f"申报：提交{claims}条用时{submit_seconds:.1f}秒"
            f"（每条{1000 * submit_seconds / claims:.1f}毫秒）；"
            f"审批{approved}条用时{approve_seconds:.1f}秒"
            f"（每条{1000 * approve_seconds / claims:.1f}毫秒）"
        )

        t0 = time.perf_counter()
        mismatches = services.ledger_consistency_check()
        check_seconds = time.perf_counter() - t0
        self.stdout.write(
            f"余额核对：{Account.objects.count()}个账户，"
            f"{LedgerEntry.objects.count()}条流水，不一致{len(mismatches)}个，"
            f"用时{check_seconds:.2f}秒"
        )

    def _fresh_village(self, households: int):
        """A new village of the bench township with ``households`` households and two clerks."""
        township = Township.objects.filter(code=BENCH_TOWNSHIP_CODE).first()
        if township is None:
            township = township_create(actor=None, code=BENCH_TOWNSHIP_CODE, name="基准测试镇")
        taken = Village.objects.filter(township=township).count()
        village = village_create(
            actor=None,
            township=township,
            code=f"{BENCH_TOWNSHIP_CODE}{taken + 1:03d}",
            name=f"积分基准村{taken + 1}",
        )
        User = get_user_model()
        suffix = f"{village.code}-{int(time.time())}"
        clerk = User.objects.create_user(username=f"bench-clerk-{suffix}", password=None)
        approver = User.objects.create_user(username=f"bench-approver-{suffix}", password=None)
        for user in (clerk, approver):
            scope_assign(actor=None, user=user, role=Role.VILLAGE_STAFF, village=village)
        grid_count = -(-households // HOUSEHOLDS_PER_GRID)
        grids = [
            grid_create(
                actor=None,
                village=village,
                code=f"{village.code}{g + 1:03d}",
                name=f"第{g + 1}网格",
            )
            for g in range(grid_count)
        ]
        # Roster set-up is not what is measured; the roster import has its own benchmark.
        Household.objects.bulk_create(
            [
                Household(
                    village=village,
                    grid=grids[n // HOUSEHOLDS_PER_GRID],
                    number=f"{n + 1:05d}",
                )
                for n in range(households)
            ],
            batch_size=1000,
        )
        household_list = list(Household.objects.filter(village=village).order_by("pk"))
        return clerk, approver, village, household_list
