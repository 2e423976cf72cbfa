from django.core.management.base import BaseCommand

from governance import jobs


class Command(BaseCommand):
    help = (
        "重新发送无人处理的后台任务：工作进程中断的运行中任务、消息队列故障期间未能发出的任务"
        "（与每5分钟的定时任务同一服务，可重复运行）"
    )

    def handle(self, *args, **options):
        count = jobs.jobs_requeue_waiting()
        self.stdout.write(self.style.SUCCESS(f"已重新发送{count}项任务"))
