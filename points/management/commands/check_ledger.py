"""python manage.py check_ledger — list accounts whose balance cache differs from the ledger."""

from django.core.management.base import BaseCommand, CommandError

from points import services


class Command(BaseCommand):
    help = "核对积分账户余额与流水合计是否一致"

    def handle(self, *args, **options):
        mismatches = services.ledger_consistency_check()
        for m in mismatches:
            self.stdout.write(
                f"户{m.household_number}（账户{m.account_id}）：缓存余额{m.cached}，流水合计{m.actual}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)}个账户余额与流水不一致")
        self.stdout.write("全部账户余额与流水一致")
