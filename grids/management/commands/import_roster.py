"""python manage.py import_roster PATH --village CODE [--dry-run] — households, residents, 联户代表."""

from django.core.management.base import BaseCommand, CommandError

from grids.models import Village
from grids.roster_import import (
    ROSTER_COLUMNS,
    ImportRejected,
    RosterReport,
    read_table_from_path,
    roster_import,
)


class Command(BaseCommand):
    help = "从CSV或XLSX导入一个村的花名册（列：" + "、".join(ROSTER_COLUMNS) + "）"

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV（UTF-8或GB18030）或XLSX文件")
        parser.add_argument("--village", required=True, help="村代码（12位）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args, path: str, village: str, dry_run: bool, **options):
        target = Village.objects.filter(code=village.strip()).first()
        if target is None:
            raise CommandError(f"村代码{village}不存在，请先导入区划")
        try:
            table = read_table_from_path(path, columns=ROSTER_COLUMNS)
            report = roster_import(actor=None, village=target, table=table, dry_run=dry_run)
        except OSError as exc:
            raise CommandError(f"无法打开文件：{exc}") from exc
        except ImportRejected as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(f"导入失败：共{len(exc.issues)}处错误，未写入任何数据") from exc
        write_roster_report(self.stdout, report)


def write_roster_report(out, report: RosterReport) -> None:
    prefix = "检查通过（未写入）" if report.dry_run else "导入完成"
    out.write(
        f"{prefix}：{report.village_name}（{report.village_code}），{report.source}，{report.rows}行"
    )
    for label, tally in (("户", report.households), ("村民", report.residents)):
        out.write(f"  {label}：新增{tally.created}，更新{tally.updated}，未变{tally.unchanged}")
    out.write(
        f"  联户代表：新任{report.representatives.created}，已在任{report.representatives.unchanged}，"
        f"新开通手机登录{report.logins_created}"
    )
    for warning in report.warnings:
        out.write(f"  提示：{warning}")
