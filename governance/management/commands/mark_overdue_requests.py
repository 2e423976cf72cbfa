from django.core.management.base import BaseCommand

from governance import jobs


class Command(BaseCommand):
    help = (
        "超期督办：为新近超过办理期限的诉求各记一条“超期”记录（与每日定时任务同一服务，可重复运行）"
    )

    def handle(self, *args, **options):
        count = jobs.overdue_sweep()
        self.stdout.write(self.style.SUCCESS(f"新列入督办的超期诉求：{count}件"))
