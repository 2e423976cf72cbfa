from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from governance import analysis, jobs


class Command(BaseCommand):
    help = "村级一月一分析、镇级汇总：同步计算并保存某月的分析快照（与定时任务同一服务）"

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--village", default=None, help="只计算该村（村代码）及其乡镇汇总")

    def handle(self, *args, month, village, **options):
        try:
            analysis.parse_month(month)
            count = jobs.run_monthly({"month": month, "village": village})
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"{month}：已生成{count}份分析快照"))
