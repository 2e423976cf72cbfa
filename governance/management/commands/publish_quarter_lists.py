from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from governance import jobs


class Command(BaseCommand):
    help = "季度红黑榜：同步计算并公示某季度的红黑榜（已公示的不会重复发布）"

    def add_arguments(self, parser):
        parser.add_argument("--quarter", required=True, help="YYYYQn，例如 2026Q3")
        parser.add_argument("--village", default=None, help="只处理该村（村代码）")

    def handle(self, *args, quarter, village, **options):
        try:
            count = jobs.run_lists({"quarter": quarter, "village": village})
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"{quarter}：已处理{count}项（村及乡镇点评）"))
