"""python manage.py grant_base_points --year 2026 [--points 100] — the yearly 基础分 job."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from points import services


class Command(BaseCommand):
    help = "发放年度基础分（可重复运行，同一年度每户只发一次）"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=timezone.localdate().year)
        parser.add_argument("--points", type=int, default=100)
        parser.add_argument("--village", type=int, action="append", dest="villages")

    def handle(self, *args, year: int, points: int, villages, **options):
        if not 2000 <= year <= 2100:
            raise CommandError("年度应在2000到2100之间")
        try:
            granted = services.base_points_grant(year=year, points=points, village_ids=villages)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{year}年度基础分：新发放{granted}户，每户{points}分")
