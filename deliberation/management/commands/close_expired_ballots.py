from django.core.management.base import BaseCommand

from deliberation.services import household_ballots_close_expired


class Command(BaseCommand):
    help = "关闭已过截止时间的按户表决（与定时任务相同，可重复执行）"

    def handle(self, *args, **options):
        closed = household_ballots_close_expired()
        self.stdout.write(f"closed {len(closed)} ballot(s): {closed}")
