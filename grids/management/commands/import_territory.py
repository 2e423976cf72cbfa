"""python manage.py import_territory PATH [--dry-run] — townships, villages, sections and grids."""

from django.core.management.base import BaseCommand, CommandError

from grids.roster_import import (
    TERRITORY_COLUMNS,
    ImportRejected,
    read_table_from_path,
    territory_import,
)


class Command(BaseCommand):
    help = "从CSV或XLSX导入乡镇、村、片区和网格（列：" + "、".join(TERRITORY_COLUMNS) + "）"

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV（UTF-8或GB18030）或XLSX文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args, path: str, dry_run: bool, **options):
        try:
            table = read_table_from_path(path, columns=TERRITORY_COLUMNS)
            report = territory_import(actor=None, table=table, dry_run=dry_run)
        except OSError as exc:
            raise CommandError(f"无法打开文件：{exc}") from exc
        except ImportRejected as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(f"导入失败：共{len(exc.issues)}处错误，未写入任何数据") from exc
        prefix = "检查通过（未写入）" if dry_run else "导入完成"
        self.stdout.write(f"{prefix}：{report.source}，{report.rows}行")
        for label, tally in (
            ("乡镇", report.townships),
            ("村", report.villages),
            ("片区", report.sections),
            ("网格", report.grids),
        ):
            self.stdout.write(
                f"  {label}：新增{tally.created}，更新{tally.updated}，未变{tally.unchanged}"
            )
