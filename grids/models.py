"""Territory (township → village → section → grid → household), people and access scopes."""

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

# Tags that raise a household's visit priority (独居老人 first on the representative's list).
PRIORITY_TAGS = ("独居老人", "留守儿童", "低保", "五保", "残疾", "重病")

# No 0/O/1/I/L: the public code is read off paper and typed on a phone.
PUBLIC_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PUBLIC_CODE_LENGTH = 12


def new_public_code() -> str:
    return "".join(secrets.choice(PUBLIC_CODE_ALPHABET) for _ in range(PUBLIC_CODE_LENGTH))


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """张三 → 张*, 张三明 → 张*明, 欧阳小明 → 欧**明."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


class User(AbstractUser):
    """A login. Representatives sign in with their phone number; staff may use a username."""

    phone = models.CharField(_("手机号"), max_length=11, blank=True, default="")
    display_name = models.CharField(_("姓名"), max_length=50, blank=True, default="")
    # Bumped by "log out everywhere": it is part of the session hash, so every session ends.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    # Set when staff give the account an initial password: every page sends the user to the
    # password change page until they choose their own.
    password_must_change = models.BooleanField(_("需修改初始密码"), default=False, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=~Q(phone=""), name="user_phone_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def get_session_auth_hash(self) -> str:
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "grids.User.session", f"{self.password}:{self.session_epoch}", algorithm="sha256"
        ).hexdigest()


class Township(models.Model):
    code = models.CharField(_("乡镇代码"), max_length=9, unique=True)
    name = models.CharField(_("乡镇名称"), max_length=50)
    grid_deadline_days = models.PositiveSmallIntegerField(_("民事办理时限(天)"), default=3)
    village_deadline_days = models.PositiveSmallIntegerField(_("村事办理时限(天)"), default=7)
    township_deadline_days = models.PositiveSmallIntegerField(_("政事办理时限(天)"), default=15)

    class Meta:
        verbose_name = _("乡镇")
        verbose_name_plural = _("乡镇")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{9}$"), name="township_code_9_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Village(models.Model):
    class Kind(models.TextChoices):
        VILLAGE = "village", _("村")
        COMMUNITY = "community", _("社区")

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="villages", verbose_name=_("乡镇")
    )
    code = models.CharField(_("村代码"), max_length=12, unique=True)
    name = models.CharField(_("村名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.VILLAGE)
    min_households_per_rep = models.PositiveSmallIntegerField(_("每名代表最少联系户数"), default=5)
    max_households_per_rep = models.PositiveSmallIntegerField(_("每名代表最多联系户数"), default=15)
    visit_cadence_days = models.PositiveSmallIntegerField(_("走访周期(天)"), default=7)
    # 总网格长: chairs the 一约四会. Set through services.village_party_secretary_set.
    party_secretary = models.ForeignKey(
        "Resident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("村党组织书记（总网格长）"),
    )

    class Meta:
        verbose_name = _("村(社区)")
        verbose_name_plural = _("村(社区)")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{12}$"), name="village_code_12_digits"
            ),
            models.CheckConstraint(
                condition=Q(min_households_per_rep__lte=models.F("max_households_per_rep")),
                name="village_rep_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(visit_cadence_days__gte=1), name="village_cadence_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Section(models.Model):
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="sections", verbose_name=_("村")
    )
    name = models.CharField(_("片区名称"), max_length=50)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_sections",
        verbose_name=_("分片网格长"),
    )

    class Meta:
        verbose_name = _("片区")
        verbose_name_plural = _("片区")
        ordering = ["village", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "name"], name="section_name_unique_in_village"
            )
        ]

    def __str__(self) -> str:
        return f"{self.village.name}·{self.name}"


class Grid(models.Model):
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="grids", verbose_name=_("村")
    )
    section = models.ForeignKey(
        Section,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grids",
        verbose_name=_("片区"),
    )
    code = models.CharField(_("网格代码"), max_length=15, unique=True)
    name = models.CharField(_("网格名称"), max_length=50)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_grids",
        verbose_name=_("网格长"),
    )

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{15}$"), name="grid_code_15_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="households", verbose_name=_("村")
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="households", verbose_name=_("网格")
    )
    number = models.CharField(_("户号"), max_length=30)
    address = models.CharField(_("住址"), max_length=200, blank=True, default="")
    head = models.ForeignKey(
        "Resident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("户主"),
    )
    tags = models.JSONField(_("标签"), default=list, blank=True)
    # Derived from tags by the service so that "priority first" is an index-friendly ORDER BY.
    priority = models.BooleanField(_("重点关注"), default=False)
    representative = models.ForeignKey(
        "Representative",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
        verbose_name=_("联户代表"),
    )
    public_code = models.CharField(
        _("公开查询码"), max_length=16, unique=True, default=new_public_code, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["village", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "number"], name="household_number_unique_in_village"
            ),
        ]
        indexes = [
            models.Index(fields=["representative", "priority"], name="household_rep_priority")
        ]

    def __str__(self) -> str:
        return f"{self.number}"


class Resident(models.Model):
    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Status(models.TextChoices):
        PRESENT = "present", _("在村")
        AWAY = "away", _("外出")
        MOVED = "moved", _("迁出")
        DECEASED = "deceased", _("死亡")

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="residents", verbose_name=_("户")
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(
        _("性别"), max_length=1, choices=Gender.choices, blank=True, default=""
    )
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True, default="")
    phone = models.CharField(_("手机号"), max_length=11, blank=True, default="")
    relation = models.CharField(_("与户主关系"), max_length=20, blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PRESENT
    )

    class Meta:
        verbose_name = _("村民")
        verbose_name_plural = _("村民")
        ordering = ["household", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"], condition=~Q(id_number=""), name="resident_id_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(id_number="") | Q(id_number__regex=r"^[0-9]{17}[0-9X]$"),
                name="resident_id_number_format",
            ),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__regex=r"^1[0-9]{10}$"),
                name="resident_phone_format",
            ),
        ]
        indexes = [
            # The few residents who moved out or died: the quarterly lists find households
            # with nobody left without reading every resident of the township.
            models.Index(
                fields=["household"],
                condition=Q(status__in=["moved", "deceased"]),
                name="resident_gone",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class Representative(models.Model):
    class Kind(models.TextChoices):
        LINKED = "linked", _("联户代表")
        FULL_TIME = "full_time", _("专职网格员")
        PART_TIME = "part_time", _("兼职网格员")
        SPECIALIST = "specialist", _("专业网格员")

    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="representative_terms",
        verbose_name=_("村民"),
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="representatives", verbose_name=_("网格")
    )
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices, default=Kind.LINKED)
    card_number = models.CharField(_("代表证号"), max_length=30, unique=True)
    appointed_on = models.DateField(_("任职日期"))
    ended_on = models.DateField(_("离任日期"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="representative_terms",
        verbose_name=_("登录账号"),
    )
    # Unguessable token printed as the card's QR code; the public page shows nothing personal.
    verify_token = models.CharField(
        max_length=16, unique=True, default=new_public_code, editable=False
    )

    class Meta:
        verbose_name = _("联户代表")
        verbose_name_plural = _("联户代表")
        ordering = ["grid", "card_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(ended_on__isnull=True),
                name="representative_one_active_term",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(ended_on__isnull=True),
                name="representative_one_active_login",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("appointed_on")),
                name="representative_term_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident.name}（{self.card_number}）"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None


class Role(models.TextChoices):
    TOWNSHIP_STAFF = "township_staff", _("乡镇干部")
    VILLAGE_STAFF = "village_staff", _("村干部")
    GRID_LEADER = "grid_leader", _("网格长")
    REPRESENTATIVE = "representative", _("联户代表")
    DEPARTMENT_HANDLER = "department_handler", _("部门经办人")


class Scope(models.Model):
    """A user's role and place in the tree. No scope means no access (deny by default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="scope",
        verbose_name=_("用户"),
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    township = models.ForeignKey(
        Township, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("乡镇")
    )
    village = models.ForeignKey(
        Village, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("村")
    )
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("网格")
    )

    class Meta:
        verbose_name = _("权限范围")
        verbose_name_plural = _("权限范围")
        constraints = [
            models.CheckConstraint(
                name="scope_place_matches_role",
                condition=(
                    Q(
                        role__in=["township_staff", "department_handler"],
                        township__isnull=False,
                        village__isnull=True,
                        grid__isnull=True,
                    )
                    | Q(role="village_staff", village__isnull=False, grid__isnull=True)
                    | Q(
                        role__in=["grid_leader", "representative"],
                        village__isnull=False,
                        grid__isnull=False,
                    )
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class ContactAssignment(models.Model):
    """包村 / 包片 / 包网格: a cadre answers for a village, a section or a grid."""

    class Kind(models.TextChoices):
        VILLAGE = "village", _("包村")
        SECTION = "section", _("包片")
        GRID = "grid", _("包网格")

    cadre = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="contact_assignments",
        verbose_name=_("联系干部"),
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="contact_assignments", verbose_name=_("村")
    )
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("片区")
    )
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("网格")
    )
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("包联关系")
        verbose_name_plural = _("包联关系")
        constraints = [
            models.CheckConstraint(
                name="contact_target_matches_kind",
                condition=(
                    Q(kind="village", section__isnull=True, grid__isnull=True)
                    | Q(kind="section", section__isnull=False, grid__isnull=True)
                    | Q(kind="grid", grid__isnull=False)
                ),
            ),
            models.UniqueConstraint(
                "cadre",
                "kind",
                "village",
                Coalesce("section", Value(0)),
                Coalesce("grid", Value(0)),
                condition=Q(ended_on__isnull=True),
                name="contact_assignment_active_unique",
            ),
        ]

    def __str__(self) -> str:
        target = self.grid or self.section or self.village
        return f"{self.get_kind_display()}：{self.cadre} → {target}"


class AuditEntry(models.Model):
    """Who changed what, when, from → to. Written by services in the same transaction."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    action = models.CharField(_("操作"), max_length=50)
    object_type = models.CharField(_("对象类型"), max_length=50)
    object_id = models.CharField(_("对象编号"), max_length=40)
    object_repr = models.CharField(_("对象"), max_length=200)
    village = models.ForeignKey(
        Village,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("村"),
    )
    before = models.JSONField(_("修改前"), default=dict, blank=True)
    after = models.JSONField(_("修改后"), default=dict, blank=True)

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"


class Visit(models.Model):
    """走访: a representative's call on one of their households (weekly cadence)."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("入户")
        PHONE = "phone", _("电话")
        WECHAT = "wechat", _("微信")

    representative = models.ForeignKey(
        Representative, on_delete=models.PROTECT, related_name="visits", verbose_name=_("联户代表")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="visits", verbose_name=_("户")
    )
    visited_at = models.DateTimeField(_("走访时间"))
    method = models.CharField(
        _("方式"), max_length=10, choices=Method.choices, default=Method.IN_PERSON
    )
    note = models.TextField(_("情况记录"), blank=True, default="")
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    photo = models.ImageField(_("照片"), upload_to="visits/%Y/%m/", blank=True, default="")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_at", "-id"]
        indexes = [
            models.Index(fields=["household", "-visited_at"], name="visit_household_recent"),
            models.Index(fields=["representative", "-visited_at"], name="visit_rep_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="visit_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="visit_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.visited_at:%Y-%m-%d} {self.get_method_display()}"
