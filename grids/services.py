"""Every write to the territory and its people. One transaction each, audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .models import (
    PRIORITY_TAGS,
    AuditEntry,
    ContactAssignment,
    Grid,
    Household,
    Representative,
    Resident,
    Role,
    Scope,
    Section,
    Township,
    Village,
)
from .signals import party_secretary_changed, village_created
from .validators import birth_date_from_id, validate_digits, validate_id_number, validate_phone

# Never written to the audit trail in clear: the trail is read by more people than the roster.
PII_FIELDS = {"id_number", "phone", "password"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | dict | str | int | float | bool) or value is None:
        return value
    return str(value)


def snapshot(instance: Model, fields: list[str] | None = None) -> dict[str, Any]:
    """Field values of ``instance`` for an audit record; PII is kept as masked text."""
    from .models import mask_id_number, mask_phone

    data = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = getattr(instance, field.attname)
        if field.name == "id_number":
            value = mask_id_number(value)
        elif field.name == "phone":
            value = mask_phone(value)
        elif field.name == "password":
            value = "***"
        data[field.name] = _jsonable(value)
    return data


def audit_record(
    *,
    actor,
    action: str,
    instance: Model,
    before: dict | None = None,
    after: dict | None = None,
    village_id: int | None = None,
) -> AuditEntry:
    """Write one audit row; callers are already inside their transaction."""
    before = before or {}
    after = after if after is not None else {}
    if before and after:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        before = {k: before.get(k) for k in changed}
        after = {k: after.get(k) for k in changed}
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        village_id=village_id,
        before=before,
        after=after,
    )


def _full_clean(instance: Model, exclude: list[str] | None = None) -> None:
    instance.full_clean(exclude=exclude, validate_constraints=True)


def _require_village_manager(actor, village_id: int) -> None:
    """Staff may change only their own village (township staff: their township's villages).

    ``actor=None`` is the system itself (imports, the demo loader, management commands).
    """
    if actor is None:
        return
    from .access import scope_of

    if not scope_of(actor).can_manage_village(village_id):
        raise ValidationError(_("您只能管理本村（本乡镇）的数据"))


def _scope_row(user) -> Scope | None:
    return Scope.objects.filter(user_id=user.pk).first() if user is not None else None


@transaction.atomic
def model_update(
    *, actor, instance: Model, data: dict[str, Any], village_id: int | None = None
) -> Model:
    """Apply ``data`` to ``instance`` through validation, save, and audit before → after."""
    before = snapshot(instance)
    for name, value in data.items():
        setattr(instance, name, value)
    _full_clean(instance)
    instance.save()
    audit_record(
        actor=actor,
        action="update",
        instance=instance,
        before=before,
        after=snapshot(instance),
        village_id=village_id,
    )
    return instance


@transaction.atomic
def model_create(*, actor, instance: Model, village_id: int | None = None) -> Model:
    _full_clean(instance)
    instance.save()
    audit_record(
        actor=actor,
        action="create",
        instance=instance,
        after=snapshot(instance),
        village_id=village_id,
    )
    return instance


@transaction.atomic
def township_create(*, actor, code: str, name: str) -> Township:
    code = validate_digits(code, 9, _("乡镇代码"))
    return model_create(actor=actor, instance=Township(code=code, name=name.strip()))


@transaction.atomic
def village_create(
    *, actor, township: Township, code: str, name: str, kind: str = Village.Kind.VILLAGE
) -> Village:
    code = validate_digits(code, 12, _("村代码"))
    if not code.startswith(township.code):
        raise ValidationError(
            _("村代码%(code)s不属于乡镇%(township)s") % {"code": code, "township": township.code}
        )
    village = Village(township=township, code=code, name=name.strip(), kind=kind)
    model_create(actor=actor, instance=village)
    village_created.send(sender=Village, village=village, actor=actor)
    return village


def _check_section_leader(section: Section, leader) -> None:
    scope = _scope_row(leader)
    if not (
        scope is not None
        and scope.village_id == section.village_id
        and scope.role in {Role.VILLAGE_STAFF, Role.GRID_LEADER}
    ):
        raise ValidationError({"leader": _("分片网格长必须是本村的村干部或网格长账号")})


def _check_grid_leader(grid: Grid, leader) -> None:
    scope = _scope_row(leader)
    if not (
        scope is not None
        and (
            (scope.role == Role.GRID_LEADER and scope.grid_id == grid.pk)
            or (scope.role == Role.VILLAGE_STAFF and scope.village_id == grid.village_id)
        )
    ):
        raise ValidationError({"leader": _("网格长必须是本网格的网格长账号或本村的村干部")})


@transaction.atomic
def section_create(*, actor, village: Village, name: str, leader=None) -> Section:
    _require_village_manager(actor, village.pk)
    section = Section(village=village, name=name.strip())
    if leader is not None:
        _check_section_leader(section, leader)
        section.leader = leader
    return model_create(actor=actor, instance=section, village_id=village.pk)


@transaction.atomic
def section_update(*, actor, section: Section, **data: Any) -> Section:
    """Rename a section or set its 分片网格长 (a village cadre or grid leader of the village)."""
    _require_village_manager(actor, section.village_id)
    if "village" in data and data["village"].pk != section.village_id:
        raise ValidationError(_("片区不能调整到其他村"))
    if data.get("leader") is not None:
        _check_section_leader(section, data["leader"])
    return model_update(actor=actor, instance=section, data=data, village_id=section.village_id)


@transaction.atomic
def grid_create(
    *,
    actor,
    village: Village,
    code: str,
    name: str,
    section: Section | None = None,
    leader=None,
) -> Grid:
    code = validate_digits(code, 15, _("网格代码"))
    if not code.startswith(village.code):
        raise ValidationError(
            _("网格代码%(code)s不属于村%(village)s") % {"code": code, "village": village.code}
        )
    if section is not None and section.village_id != village.pk:
        raise ValidationError(_("片区不属于该村"))
    _require_village_manager(actor, village.pk)
    grid = Grid(village=village, code=code, name=name.strip(), section=section)
    if leader is not None:
        # A new grid has no grid-leader account of its own yet: only a village cadre fits.
        _check_grid_leader(grid, leader)
        grid.leader = leader
    return model_create(actor=actor, instance=grid, village_id=village.pk)


@transaction.atomic
def grid_update(*, actor, grid: Grid, **data: Any) -> Grid:
    """Rename a grid, move it to another section of its village, or set its 网格长."""
    _require_village_manager(actor, grid.village_id)
    if "village" in data and data["village"].pk != grid.village_id:
        raise ValidationError(_("网格不能调整到其他村"))
    if "code" in data and data["code"] != grid.code:
        raise ValidationError({"code": _("网格代码不能修改")})
    if data.get("section") is not None and data["section"].village_id != grid.village_id:
        raise ValidationError({"section": _("片区不属于该村")})
    if data.get("leader") is not None:
        _check_grid_leader(grid, data["leader"])
    return model_update(actor=actor, instance=grid, data=data, village_id=grid.village_id)


def household_priority(tags: list[str]) -> bool:
    return any(tag in PRIORITY_TAGS for tag in tags)


def _clean_tags(tags: list[str] | None) -> list[str]:
    seen: list[str] = []
    for tag in tags or []:
        tag = str(tag).strip()
        if tag and tag not in seen:
            seen.append(tag[:20])
    return seen


@transaction.atomic
def household_create(
    *, actor, grid: Grid, number: str, address: str = "", tags: list[str] | None = None
) -> Household:
    tags = _clean_tags(tags)
    household = Household(
        village_id=grid.village_id,
        grid=grid,
        number=number.strip(),
        address=address.strip(),
        tags=tags,
        priority=household_priority(tags),
    )
    return model_create(actor=actor, instance=household, village_id=grid.village_id)


@transaction.atomic
def household_update(*, actor, household: Household, **data: Any) -> Household:
    if "grid" in data and data["grid"].village_id != household.village_id:
        raise ValidationError(_("不能把户调整到其他村的网格"))
    if "tags" in data:
        data["tags"] = _clean_tags(data["tags"])
        data["priority"] = household_priority(data["tags"])
    if "head" in data and data["head"] is not None and data["head"].household_id != household.pk:
        raise ValidationError(_("户主必须是本户成员"))
    if "representative" in data and data["representative"] is not None:
        _check_representative_for(household, data["representative"])
    return model_update(actor=actor, instance=household, data=data, village_id=household.village_id)


def _check_representative_for(household: Household, representative: Representative) -> None:
    if not representative.is_active:
        raise ValidationError(_("该联户代表已离任，不能再联系农户"))
    if representative.grid.village_id != household.village_id:
        raise ValidationError(_("联户代表必须是本村的代表"))


def _resident_fields(
    *, name: str, gender: str, birth_date: dt.date | None, id_number: str, phone: str
) -> dict[str, Any]:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("姓名不能为空")})
    if len(name) > 50:
        raise ValidationError({"name": _("姓名不能超过50个字")})
    errors = {}
    if id_number:
        try:
            id_number = validate_id_number(id_number)
        except ValidationError as exc:
            errors["id_number"] = exc.messages
    if phone:
        try:
            phone = validate_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if birth_date is None and id_number:
        birth_date = birth_date_from_id(id_number)
    if not gender and id_number:
        gender = Resident.Gender.MALE if int(id_number[16]) % 2 else Resident.Gender.FEMALE
    return {
        "name": name,
        "gender": gender or "",
        "birth_date": birth_date,
        "id_number": id_number or "",
        "phone": phone or "",
    }


@transaction.atomic
def resident_create(
    *,
    actor,
    household: Household,
    name: str,
    relation: str = "",
    gender: str = "",
    birth_date: dt.date | None = None,
    id_number: str = "",
    phone: str = "",
    status: str = Resident.Status.PRESENT,
) -> Resident:
    fields = _resident_fields(
        name=name, gender=gender, birth_date=birth_date, id_number=id_number, phone=phone
    )
    resident = Resident(household=household, relation=relation.strip(), status=status, **fields)
    model_create(actor=actor, instance=resident, village_id=household.village_id)
    if relation.strip() == "户主":
        household_update(actor=actor, household=household, head=resident)
    return resident


@transaction.atomic
def resident_update(*, actor, resident: Resident, **data: Any) -> Resident:
    if {"name", "gender", "birth_date", "id_number", "phone"} & set(data):
        merged = {
            key: data.get(key, getattr(resident, key))
            for key in ("name", "gender", "birth_date", "id_number", "phone")
        }
        data.update(_resident_fields(**merged))
    return model_update(
        actor=actor, instance=resident, data=data, village_id=resident.household.village_id
    )


def phone_login_taken(*, user, scope_role: str | None, holds_active_term: bool) -> bool:
    """Whether an existing account may not become a representative's phone login.

    It may not when it already is the login of a representative in office, or belongs to staff
    (any other role, or an admin account): staff set representatives' passwords, so handing them
    a staff account would hand over the staff's access. The roster import applies the same rule.
    """
    return (
        holds_active_term
        or user.is_staff
        or user.is_superuser
        or (scope_role is not None and scope_role != Role.REPRESENTATIVE)
    )


PHONE_LOGIN_TAKEN_MESSAGE = _lazy(
    "该手机号已是其他账号（在任代表或工作人员）的登录名，本代表暂不开通手机登录"
)


def _account_for_phone(phone: str):
    """The account whose phone, or whose username, is ``phone`` (representatives log in with it)."""
    return (
        get_user_model()
        .objects.filter(models.Q(phone=phone) | models.Q(username=phone))
        .order_by("pk")
        .first()
    )


@transaction.atomic
def user_for_phone(*, actor, phone: str, name: str, password: str | None = None):
    """The login account for a phone number, created without a usable password if new."""
    phone = validate_phone(phone)
    user_model = get_user_model()
    user = _account_for_phone(phone)
    if user is None:
        user = user_model(username=phone, phone=phone, display_name=name)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        audit_record(
            actor=actor,
            action="create",
            instance=user,
            after=snapshot(user, ["username", "display_name"]),
        )
    return user


@transaction.atomic
def representative_appoint(
    *,
    actor,
    resident: Resident,
    grid: Grid,
    card_number: str,
    appointed_on: dt.date,
    kind: str = Representative.Kind.LINKED,
    password: str | None = None,
) -> Representative:
    """Appoint a resident as representative of a grid; gives them a phone login if they have a phone.

    Refused when the phone already is the login of staff or of a representative in office:
    that account must not silently become this representative's.
    """
    if grid.village_id != resident.household.village_id:
        raise ValidationError(_("联户代表必须是本村村民"))
    _require_village_manager(actor, grid.village_id)
    if Representative.objects.filter(resident=resident, ended_on__isnull=True).exists():
        raise ValidationError(_("%(name)s已是在任联户代表") % {"name": resident.name})
    user = None
    if resident.phone:
        existing = _account_for_phone(resident.phone)
        if existing is not None:
            scope = _scope_row(existing)
            if phone_login_taken(
                user=existing,
                scope_role=scope.role if scope else None,
                holds_active_term=Representative.objects.filter(
                    user=existing, ended_on__isnull=True
                ).exists(),
            ):
                raise ValidationError(
                    _(
                        "%(name)s的手机号%(phone)s已是其他账号（在任代表或工作人员）的登录名，"
                        "不能作为代表的登录账号。请先核对该村民的手机号。"
                    )
                    % {"name": resident.name, "phone": resident.masked_phone}
                )
        user = user_for_phone(
            actor=actor, phone=resident.phone, name=resident.name, password=password
        )
        scope_assign(actor=actor, user=user, role=Role.REPRESENTATIVE, grid=grid)
    representative = Representative(
        resident=resident,
        grid=grid,
        card_number=card_number.strip(),
        appointed_on=appointed_on,
        kind=kind,
        user=user,
    )
    return model_create(actor=actor, instance=representative, village_id=grid.village_id)


@transaction.atomic
def representative_end(
    *, actor, representative: Representative, ended_on: dt.date
) -> Representative:
    """End a term: the card shows 已离任, the login loses its scope, households become unassigned."""
    if not representative.is_active:
        raise ValidationError(_("该联户代表已离任"))
    if ended_on < representative.appointed_on:
        raise ValidationError(_("离任日期不能早于任职日期"))
    village_id = representative.grid.village_id
    for household in (
        Household.objects.filter(representative=representative).order_by("pk").select_for_update()
    ):
        household_update(actor=actor, household=household, representative=None)
    if representative.user_id:
        Scope.objects.filter(user_id=representative.user_id, role=Role.REPRESENTATIVE).delete()
    return model_update(
        actor=actor, instance=representative, data={"ended_on": ended_on}, village_id=village_id
    )


@transaction.atomic
def household_assign_representative(
    *, actor, household: Household, representative: Representative | None
) -> Household:
    """Link a household to its representative (one current representative per household)."""
    return household_update(actor=actor, household=household, representative=representative)


@transaction.atomic
def user_sessions_revoke(*, actor, user) -> None:
    """Log the user out on every device (a lost phone, a shared office computer)."""
    get_user_model().objects.filter(pk=user.pk).update(session_epoch=models.F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    audit_record(actor=actor, action="logout_everywhere", instance=user)


def scope_place(*, role: str, township=None, village=None, grid=None) -> tuple:
    """The (township, village, grid) a scope of ``role`` keeps, or a ValidationError."""
    if role in {Role.TOWNSHIP_STAFF, Role.DEPARTMENT_HANDLER}:
        if township is None:
            raise ValidationError(_("乡镇干部和部门经办人必须指定乡镇"))
        return township, None, None
    if role == Role.VILLAGE_STAFF:
        if village is None:
            raise ValidationError(_("村干部必须指定村"))
        return None, village, None
    if role in {Role.GRID_LEADER, Role.REPRESENTATIVE}:
        if grid is None:
            raise ValidationError(_("网格长和联户代表必须指定网格"))
        return None, grid.village, grid
    raise ValidationError(_("请选择角色"))


@transaction.atomic
def scope_assign(*, actor, user, role: str, township=None, village=None, grid=None) -> Scope:
    """Give an account its role and place in the tree (what it may see); audited."""
    township, village, grid = scope_place(role=role, township=township, village=village, grid=grid)
    existing = Scope.objects.filter(user=user).first()
    before = snapshot(existing) if existing else {}
    scope, _created = Scope.objects.update_or_create(
        user=user, defaults={"role": role, "township": township, "village": village, "grid": grid}
    )
    audit_record(
        actor=actor,
        action="scope",
        instance=scope,
        before=before,
        after=snapshot(scope),
        village_id=scope.village_id,
    )
    return scope


def _check_cadre(*, kind: str, cadre, village: Village) -> None:
    scope = _scope_row(cadre)
    if kind == ContactAssignment.Kind.VILLAGE:
        if not (
            scope is not None
            and scope.role == Role.TOWNSHIP_STAFF
            and scope.township_id == village.township_id
        ):
            raise ValidationError({"cadre": _("包村干部必须是本乡镇的乡镇干部")})
    elif not (
        scope is not None and scope.role == Role.VILLAGE_STAFF and scope.village_id == village.pk
    ):
        raise ValidationError({"cadre": _("包片、包网格干部必须是本村的村干部")})


@transaction.atomic
def contact_assign(
    *,
    actor,
    cadre,
    village: Village,
    started_on: dt.date,
    section: Section | None = None,
    grid: Grid | None = None,
) -> ContactAssignment:
    """包村 (a township cadre answers for a village) or 包片/包网格 (a village cadre for a section or grid).

    Township staff arrange 包村; the village's own staff (or the township) arrange 包片/包网格.
    The assignment is shown on the staff pages; it gives the cadre no access beyond their scope.
    """
    kind = (
        ContactAssignment.Kind.GRID
        if grid
        else ContactAssignment.Kind.SECTION
        if section
        else ContactAssignment.Kind.VILLAGE
    )
    if section is not None and section.village_id != village.pk:
        raise ValidationError(_("片区不属于该村"))
    if grid is not None and grid.village_id != village.pk:
        raise ValidationError(_("网格不属于该村"))
    if kind == ContactAssignment.Kind.GRID:
        section = None
    _require_village_manager(actor, village.pk)
    if kind == ContactAssignment.Kind.VILLAGE and actor is not None:
        from .access import scope_of

        if not scope_of(actor).is_township:
            raise ValidationError(_("包村关系由乡镇安排，村干部不能设置"))
    _check_cadre(kind=kind, cadre=cadre, village=village)
    assignment = ContactAssignment(
        cadre=cadre, kind=kind, village=village, section=section, grid=grid, started_on=started_on
    )
    if ContactAssignment.objects.filter(
        cadre=cadre,
        kind=kind,
        village=village,
        section=section,
        grid=grid,
        ended_on__isnull=True,
    ).exists():
        raise ValidationError(_("该干部已在包联这里，无需重复设置"))
    return model_create(actor=actor, instance=assignment, village_id=village.pk)


@transaction.atomic
def contact_end(*, actor, assignment: ContactAssignment, ended_on: dt.date) -> ContactAssignment:
    """End a 包联 assignment (the cadre moved on); the row stays for the record."""
    _require_village_manager(actor, assignment.village_id)
    if assignment.ended_on is not None:
        raise ValidationError(_("该包联关系已结束"))
    if ended_on < assignment.started_on:
        raise ValidationError({"ended_on": _("结束日期不能早于开始日期")})
    return model_update(
        actor=actor,
        instance=assignment,
        data={"ended_on": ended_on},
        village_id=assignment.village_id,
    )


@transaction.atomic
def village_party_secretary_set(*, actor, village: Village, resident: Resident | None) -> Village:
    """Record the village Party secretary (总网格长), a resident of the village.

    Deliberation listens (``party_secretary_changed``) and makes the secretary 会长 of every
    一约四会 body of the village that has no chair in office.
    """
    _require_village_manager(actor, village.pk)
    if resident is not None:
        if resident.household.village_id != village.pk:
            raise ValidationError({"party_secretary": _("村党组织书记必须是本村村民")})
        if resident.status in {Resident.Status.MOVED, Resident.Status.DECEASED}:
            raise ValidationError(
                {"party_secretary": _("%(name)s已迁出或去世，不能担任") % {"name": resident.name}}
            )
    village = model_update(
        actor=actor, instance=village, data={"party_secretary": resident}, village_id=village.pk
    )
    if resident is not None:
        party_secretary_changed.send(
            sender=Village, village=village, party_secretary=resident, actor=actor
        )
    return village


def _check_new_password(user, password: str) -> None:
    from django.contrib.auth import password_validation

    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


@transaction.atomic
def user_password_set(*, actor, user, password: str | None, must_change: bool) -> None:
    """Set (or, with ``password=None``, disable) an account's password; audited, never logged.

    ``must_change`` makes the user choose their own password at their next sign-in. A new
    password ends the user's other sessions (the session hash includes the password).
    """
    if password is None:
        user.set_unusable_password()
        must_change = False
    else:
        _check_new_password(user, password)
        user.set_password(password)
    user.password_must_change = must_change
    user.save(update_fields=["password", "password_must_change"])
    audit_record(
        actor=actor,
        action="password_set" if password is not None else "password_disable",
        instance=user,
        after={"password_must_change": must_change},
    )


@transaction.atomic
def user_password_change(*, user, password: str) -> None:
    """The user chose a new password of their own (after an initial one, or any time)."""
    _check_new_password(user, password)
    user.set_password(password)
    user.password_must_change = False
    user.save(update_fields=["password", "password_must_change"])
    audit_record(actor=user, action="password_change", instance=user)


@transaction.atomic
def representative_password_set(
    *, actor, representative: Representative, password: str
) -> Representative:
    """村里设置初始密码: village or township staff give a representative's phone login a password.

    Only a representative in office, whose account is a representative's (never a staff
    account), in the actor's village or township. The representative must change it at sign-in.
    """
    _require_village_manager(actor, representative.grid.village_id)
    if not representative.is_active:
        raise ValidationError(_("该联户代表已离任，不能设置密码"))
    user = representative.user
    if user is None:
        raise ValidationError(
            _("该代表还没有手机登录账号：请先在村民信息里登记其手机号，再重新任命或导入花名册")
        )
    scope = _scope_row(user)
    if user.is_staff or user.is_superuser or scope is None or scope.role != Role.REPRESENTATIVE:
        raise ValidationError(_("该账号不是联户代表账号，不能在这里设置密码"))
    user_password_set(actor=actor, user=user, password=password, must_change=True)
    audit_record(
        actor=actor,
        action="representative_password_set",
        instance=representative,
        village_id=representative.grid.village_id,
    )
    return representative


# Phone photos are 3–8 MB; 1280 px JPEG keeps faces and documents legible at ~200 KB.
PHOTO_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDE = 1280
# Refuse before decoding: a small PNG can declare 100 million pixels (300 MB of RAM). Pillow only
# warns between 89 and 179 million pixels; 50 million is more than any phone camera's default.
PHOTO_MAX_PIXELS = 50_000_000


def photo_shrink(upload, *, name_prefix: str):
    """A phone photo as a resized JPEG ``ContentFile``; ValidationError if it is not an image."""
    from io import BytesIO

    from django.core.files.base import ContentFile
    from PIL import Image, ImageOps, UnidentifiedImageError

    if upload.size > PHOTO_MAX_UPLOAD_BYTES:
        raise ValidationError({"photo": _("照片不能超过10MB")})
    try:
        image = Image.open(upload)
        if image.width * image.height > PHOTO_MAX_PIXELS:
            raise Image.DecompressionBombError(f"{image.width}x{image.height}")
        image = ImageOps.exif_transpose(image)
        image = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValidationError({"photo": _("无法识别的图片，请重新拍照")}) from exc
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=80, optimize=True)
    return ContentFile(buffer.getvalue(), name=f"{name_prefix}.jpg")


@transaction.atomic
def visit_record(
    *,
    actor,
    representative: Representative,
    household: Household,
    method: str,
    note: str = "",
    visited_at: dt.datetime | None = None,
    latitude=None,
    longitude=None,
    photo=None,
):
    """走访: a representative records a call on one of their own households."""
    from django.utils import timezone

    from .models import Visit

    if not representative.is_active:
        raise ValidationError(_("该联户代表已离任，不能再记录走访"))
    if household.representative_id != representative.pk:
        raise ValidationError(_("只能记录自己联系户的走访"))
    if method not in Visit.Method.values:
        raise ValidationError({"method": _("请选择走访方式")})
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"visited_at": _("走访时间不能晚于现在")})
    if (latitude is None) != (longitude is None):
        latitude = longitude = None
    visit = Visit(
        representative=representative,
        household=household,
        visited_at=visited_at,
        method=method,
        note=(note or "").strip(),
        latitude=latitude,
        longitude=longitude,
    )
    if photo:
        visit.photo = photo_shrink(photo, name_prefix=f"visit-{household.pk}")
    model_create(actor=actor, instance=visit, village_id=household.village_id)
    return visit
