"""Fill PostgreSQL with a deterministic synthetic city for the scale benchmarks."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from governance.citygen import generate_city, reset_database


class Command(BaseCommand):
    help = "生成确定性的城市级模拟数据（PostgreSQL COPY），供规模基准测试使用"

    def add_arguments(self, parser):
        parser.add_argument("--villages", type=int, default=2000)
        parser.add_argument("--households", type=int, default=1_000_000)
        parser.add_argument("--months", type=int, default=3)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="先清空 grids/governance/points/deliberation 的所有表（TRUNCATE）",
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("generate_city 需要 PostgreSQL（使用 COPY 写入）")
        if options["reset"]:
            with connection.cursor() as cursor:
                reset_database(cursor)
            self.stdout.write("tables truncated")
        try:
            result = generate_city(
                villages=options["villages"],
                households=options["households"],
                months=options["months"],
                seed=options["seed"],
                out=self.stdout.write,
            )
        except (RuntimeError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for table, rows in sorted(result.counts.items()):
            self.stdout.write(f"{table:32} {rows:>12,}")
        for phase, seconds in result.timings.items():
            self.stdout.write(f"{phase:60} {seconds:8.1f} s")
        self.stdout.write(self.style.SUCCESS(f"done in {result.seconds:.1f} s"))
