"""Build the demo township from the seed reports' figures (欧江岔镇: ~15 households per representative).

Idempotent: if the demo township exists the command reports it and changes nothing.
"""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from governance.demo_activity import DEMO_PASSWORD, seed_activity
from grids import services
from grids.demo import demo_roles_ensure
from grids.demo_names import random_name
from grids.models import Household, Resident, Role, Township
from grids.validators import id_check_char

TOWNSHIP = ("430903106", "欧江岔镇")
VILLAGES = [
    ("430903106201", "长东湖村", ["东湖片", "长湖片"]),
    ("430903106202", "注湖港村", ["港口片"]),
    ("430903106203", "明月村", []),
]
GRIDS_PER_VILLAGE = 3
HOUSEHOLDS_PER_GRID = 30
HOUSEHOLDS_PER_REP = 15
TAGS = ["独居老人", "留守儿童", "低保", "五保", "脱贫户"]


class Command(BaseCommand):
    help = "创建演示乡镇（欧江岔镇）：村、网格、农户、村民、联户代表和演示账号"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2023)

    def handle(self, *args, seed: int, **options):
        if Township.objects.filter(code=TOWNSHIP[0]).exists():
            self.stdout.write("演示数据已存在，未做修改。")
            self.print_accounts()
            return
        rng = random.Random(seed)
        with transaction.atomic():
            admin = self.ensure_admin()
            township = services.township_create(actor=admin, code=TOWNSHIP[0], name=TOWNSHIP[1])
            township_user = self.staff_user("zhen", "镇综治中心")
            services.scope_assign(
                actor=admin, user=township_user, role=Role.TOWNSHIP_STAFF, township=township
            )
            clerks = {}
            rep_phone = 13800000000
            for v_index, (code, name, sections) in enumerate(VILLAGES):
                village = services.village_create(
                    actor=admin, township=township, code=code, name=name
                )
                clerk = self.staff_user(f"cun{v_index + 1}", f"{name}村委会")
                services.scope_assign(
                    actor=admin, user=clerk, role=Role.VILLAGE_STAFF, village=village
                )
                clerks[village.pk] = clerk
                section_rows = [
                    services.section_create(actor=admin, village=village, name=s) for s in sections
                ]
                for g in range(GRIDS_PER_VILLAGE):
                    section = section_rows[g % len(section_rows)] if section_rows else None
                    grid = services.grid_create(
                        actor=admin,
                        village=village,
                        code=f"{code}{g + 1:03d}",
                        name=f"第{g + 1}网格",
                        section=section,
                    )
                    rep_phone = self.fill_grid(admin, grid, rng, rep_phone)
            demo_roles_ensure(actor=admin, township=township)
            seed_activity(township=township, township_user=township_user, clerks=clerks, rng=rng)
        self.stdout.write(self.style.SUCCESS("演示乡镇已创建：欧江岔镇"))
        self.print_accounts()

    def fill_grid(self, admin, grid, rng: random.Random, rep_phone: int) -> int:
        households: list[Household] = []
        for h in range(HOUSEHOLDS_PER_GRID):
            tags = [rng.choice(TAGS)] if rng.random() < 0.15 else []
            number = f"{grid.code[-3:]}{h + 1:03d}"
            household = services.household_create(
                actor=admin,
                grid=grid,
                number=number,
                address=f"{grid.village.name}{grid.name}{h + 1}号",
                tags=tags,
            )
            self.fill_household(admin, household, rng)
            households.append(household)
        for start in range(0, len(households), HOUSEHOLDS_PER_REP):
            group = households[start : start + HOUSEHOLDS_PER_REP]
            rep_resident = group[0].head
            rep_phone += 1
            services.resident_update(actor=admin, resident=rep_resident, phone=str(rep_phone))
            rep = services.representative_appoint(
                actor=admin,
                resident=rep_resident,
                grid=grid,
                card_number=f"OJC{grid.code[-6:]}{start // HOUSEHOLDS_PER_REP + 1:02d}",
                appointed_on=dt.date(2023, 3, 1),
                password=DEMO_PASSWORD,
            )
            for household in group:
                services.household_assign_representative(
                    actor=admin, household=household, representative=rep
                )
        return rep_phone

    def fill_household(self, admin, household, rng: random.Random) -> None:
        head_gender = "M" if rng.random() < 0.8 else "F"
        head_birth = dt.date(rng.randint(1945, 1990), rng.randint(1, 12), rng.randint(1, 28))
        services.resident_create(
            actor=admin,
            household=household,
            name=random_name(rng, head_gender),
            relation="户主",
            id_number=self.id_number(rng, head_birth, head_gender),
        )
        if rng.random() < 0.85:
            spouse_gender = "F" if head_gender == "M" else "M"
            birth = head_birth + dt.timedelta(days=rng.randint(-1500, 1500))
            services.resident_create(
                actor=admin,
                household=household,
                name=random_name(rng, spouse_gender),
                relation="配偶",
                id_number=self.id_number(rng, birth, spouse_gender),
            )
        for _ in range(rng.randint(0, 3)):
            gender = rng.choice("MF")
            birth = dt.date(
                min(head_birth.year + rng.randint(20, 32), 2020),
                rng.randint(1, 12),
                rng.randint(1, 28),
            )
            services.resident_create(
                actor=admin,
                household=household,
                name=random_name(rng, gender),
                relation="子女",
                id_number=self.id_number(rng, birth, gender),
                status=Resident.Status.AWAY if rng.random() < 0.3 else Resident.Status.PRESENT,
            )

    def id_number(self, rng: random.Random, birth: dt.date, gender: str) -> str:
        sequence = rng.randint(0, 499) * 2 + (1 if gender == "M" else 0)
        body = f"430903{birth:%Y%m%d}{sequence:03d}"
        return body + id_check_char(body)

    def ensure_admin(self):
        user_model = get_user_model()
        admin = user_model.objects.filter(username="admin").first()
        if admin is None:
            admin = user_model.objects.create_superuser(
                "admin", password=DEMO_PASSWORD, display_name="系统管理员"
            )
        return admin

    def staff_user(self, username: str, display_name: str):
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            user = user_model(username=username, display_name=display_name, is_staff=True)
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def print_accounts(self) -> None:
        self.stdout.write(
            f"演示账号（密码均为 {DEMO_PASSWORD}）：admin（超级管理员）、zhen（镇干部）、cun1/cun2/cun3（村干部）、"
            "13800000001 起的手机号（联户代表）、minzheng（镇民政办经办人）"
        )
