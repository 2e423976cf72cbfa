"""Every write to points: rules, claims, the ledger, the points supermarket and honours.

Each service runs in one transaction and leaves an audit record. Lock order, everywhere:
claim or redemption row → accounts (by pk) → products (by pk). Two writers that meet on the same
rows therefore queue instead of deadlocking, and every balance/stock/cap check is made after the
lock is held, so it sees the other writer's committed result.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import scope_of
from grids.models import AuditEntry, Household, Resident, Township, Village
from grids.services import audit_record, model_create, model_update, photo_shrink, snapshot
from grids.validators import written_text

from .lists import black_listed_quarters, quarter_label
from .models import (
    Account,
    Category,
    Claim,
    ClaimBatch,
    Honour,
    LedgerEntry,
    PointsRule,
    PrizeTier,
    Product,
    Redemption,
    RedemptionLine,
    Shop,
    StockMovement,
)

DEFAULT_CATEGORIES = (
    ("社会公德", Category.Kind.MORAL),
    ("职业道德", Category.Kind.MORAL),
    ("家庭美德", Category.Kind.MORAL),
    ("个人品德", Category.Kind.MORAL),
    ("安全生产", Category.Kind.AFFAIRS),
    ("环境整治", Category.Kind.AFFAIRS),
    ("信访维稳", Category.Kind.AFFAIRS),
    ("产业发展", Category.Kind.AFFAIRS),
)

# Large enough to amortise the round trips, small enough that one batch's locks and
# UPDATE … CASE statement stay short (a village rarely has more than 1,000 households).
BATCH_SIZE = 1000


# --- periods (Asia/Shanghai local dates) -------------------------------------------------------


def month_range(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return start, following - dt.timedelta(days=1)


def quarter_range(day: dt.date) -> tuple[dt.date, dt.date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    end_month_start = dt.date(day.year, first_month + 2, 1)
    return start, month_range(end_month_start)[1]


def year_range(day: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


# --- access -------------------------------------------------------------------------------------


def _require_village_staff(actor, village_id: int) -> None:
    scope = scope_of(actor)
    if not scope.is_superuser and not (
        scope.role in {"township_staff", "village_staff"} and scope.can_manage_village(village_id)
    ):
        raise ValidationError(_("您没有管理该村积分的权限"))


def _require_township_staff(actor, township_id: int) -> None:
    """Township staff of this township (or a superuser): categories and township templates."""
    scope = scope_of(actor)
    if not scope.is_superuser and not (
        scope.role == "township_staff" and scope.township_id == township_id
    ):
        raise ValidationError(_("只有本乡镇的乡镇干部可以管理积分类别和乡镇模板"))


def _require_can_see_household(actor, household: Household) -> None:
    if not scope_of(actor).households().filter(pk=household.pk).exists():
        raise ValidationError(_("您不能为该户申报积分"))


# --- categories and rules -----------------------------------------------------------------------


@transaction.atomic
def township_categories_ensure(*, actor, township: Township) -> list[Category]:
    """The four moral categories and the village-affairs ones; existing names are kept.

    Any staff member of the township (or a setup script, ``actor=None``) may run it: it only
    adds the standard names that are missing and never changes one.
    """
    if actor is not None:
        scope = scope_of(actor)
        if not scope.is_superuser and not (
            scope.role in {"township_staff", "village_staff"} and scope.township_id == township.pk
        ):
            raise ValidationError(_("您没有管理该乡镇积分的权限"))
    existing = {c.name: c for c in Category.objects.filter(township=township)}
    categories = []
    for name, kind in DEFAULT_CATEGORIES:
        category = existing.get(name)
        if category is None:
            category = model_create(
                actor=actor, instance=Category(township=township, name=name, kind=kind)
            )
        categories.append(category)
    return categories


@transaction.atomic
def category_create(*, actor, township: Township, name: str, kind: str) -> Category:
    """A township's own category (e.g. 移风易俗) next to the standard ones."""
    _require_township_staff(actor, township.pk)
    name = name.strip()
    if Category.objects.filter(township=township, name=name).exists():
        raise ValidationError(_("本乡镇已有积分类别“%(name)s”") % {"name": name})
    return model_create(actor=actor, instance=Category(township=township, name=name, kind=kind))


@transaction.atomic
def category_update(
    *, actor, category: Category, name: str | None = None, kind: str | None = None
) -> Category:
    """Rename or re-kind a category; rules keep pointing at it, entries keep their rule name."""
    _require_township_staff(actor, category.township_id)
    category = Category.objects.select_for_update().get(pk=category.pk)
    data = {}
    if name is not None:
        data["name"] = name.strip()
    if kind is not None:
        data["kind"] = kind
    return model_update(actor=actor, instance=category, data=data)


def _check_legal_basis(legal_basis, village: Village | None) -> None:
    """依据条款: an article of this village's own rules, in an adopted version (adopted, filed
    or in force). A township template cites none: articles belong to one village's rules."""
    if legal_basis is None:
        return
    from deliberation.models import RuleVersion

    if village is None:
        raise ValidationError(_("乡镇模板不能引用村规民约条款；复制到村后，由村里选择本村的条款"))
    version = RuleVersion.objects.select_related("rule").get(pk=legal_basis.version_id)
    if version.rule.village_id != village.pk:
        raise ValidationError(_("依据条款必须是本村村规民约的条款"))
    if version.status not in {
        RuleVersion.Status.ADOPTED,
        RuleVersion.Status.FILED,
        RuleVersion.Status.IN_FORCE,
    }:
        raise ValidationError(
            _("依据条款所在的村规民约版本“%(status)s”，尚未经村民会议通过或已废止")
            % {"status": version.get_status_display()}
        )


@transaction.atomic
def rule_create(
    *,
    actor,
    category: Category,
    code: str,
    name: str,
    points: int,
    active_from: dt.date,
    village: Village | None = None,
    township: Township | None = None,
    subject: str = PointsRule.Subject.HOUSEHOLD,
    needs_review: bool = False,
    max_per_month: int | None = None,
    max_per_quarter: int | None = None,
    max_per_year: int | None = None,
    allow_same_day_repeat: bool = False,
    black_list_offence: bool = False,
    active_to: dt.date | None = None,
    legal_basis=None,
) -> PointsRule:
    """A village rule (``village``) or a township template (``township`` only)."""
    if village is not None:
        township = village.township
        _require_village_staff(actor, village.pk)
    elif township is None:
        raise ValidationError(_("请指定村或乡镇"))
    elif not scope_of(actor).is_township:
        raise ValidationError(_("只有乡镇干部可以制定乡镇模板"))
    elif not scope_of(actor).is_superuser and scope_of(actor).township_id != township.pk:
        raise ValidationError(_("只有本乡镇的乡镇干部可以制定乡镇模板"))
    if category.township_id != township.pk:
        raise ValidationError(_("积分类别不属于该乡镇"))
    if points == 0:
        raise ValidationError(_("分值不能为0"))
    _check_legal_basis(legal_basis, village)
    rule = PointsRule(
        township=township,
        village=village,
        category=category,
        code=code.strip(),
        name=name.strip(),
        points=points,
        subject=subject,
        needs_review=needs_review,
        max_per_month=max_per_month,
        max_per_quarter=max_per_quarter,
        max_per_year=max_per_year,
        allow_same_day_repeat=allow_same_day_repeat,
        black_list_offence=black_list_offence,
        active_from=active_from,
        active_to=active_to,
        legal_basis=legal_basis,
    )
    return model_create(actor=actor, instance=rule, village_id=village.pk if village else None)


# A rule's own terms: what staff set when they make one, may change later, and what a
# village's copy of a township template takes from it.
RULE_TERMS = (
    "code",
    "name",
    "category",
    "points",
    "subject",
    "needs_review",
    "max_per_month",
    "max_per_quarter",
    "max_per_year",
    "allow_same_day_repeat",
    "black_list_offence",
    "active_from",
    "active_to",
)
RULE_EDITABLE_FIELDS = frozenset({*RULE_TERMS, "legal_basis"})


@transaction.atomic
def rule_update(*, actor, rule: PointsRule, changes: Mapping[str, object]) -> PointsRule:
    """Change a rule from now on. Past entries keep the name and points they were made with;
    a village rule is its village staff's, a template its township staff's."""
    unknown = set(changes) - RULE_EDITABLE_FIELDS
    if unknown:
        raise ValidationError(
            _("积分规则的这些内容不能修改：%(fields)s") % {"fields": "、".join(sorted(unknown))}
        )
    rule = (
        PointsRule.objects.select_for_update(of=("self",)).select_related("village").get(pk=rule.pk)
    )
    if rule.village_id is not None:
        _require_village_staff(actor, rule.village_id)
    else:
        _require_township_staff(actor, rule.township_id)
    category = changes.get("category", rule.category)
    if category.township_id != rule.township_id:
        raise ValidationError(_("积分类别不属于该乡镇"))
    if changes.get("points", rule.points) == 0:
        raise ValidationError(_("分值不能为0"))
    if "legal_basis" in changes:
        _check_legal_basis(changes["legal_basis"], rule.village)
    return model_update(actor=actor, instance=rule, data=dict(changes), village_id=rule.village_id)


# The template's own legal basis is not copied: a village cites its own village rules.
RULE_COPY_FIELDS = tuple("category_id" if term == "category" else term for term in RULE_TERMS)


@transaction.atomic
def rule_copy_to_villages(
    *, actor, template: PointsRule, villages: Iterable[Village] | None = None
) -> list[PointsRule]:
    """Copy a township template into villages that do not yet have a rule with its code."""
    if not template.is_template:
        raise ValidationError(_("只能复制乡镇模板"))
    if not scope_of(actor).is_township:
        raise ValidationError(_("只有乡镇干部可以下发乡镇模板"))
    _require_township_staff(actor, template.township_id)
    targets = list(villages) if villages is not None else list(template.township.villages.all())
    if any(v.township_id != template.township_id for v in targets):
        raise ValidationError(_("只能复制到本乡镇的村"))
    taken = set(
        PointsRule.objects.filter(village__in=targets, code=template.code).values_list(
            "village_id", flat=True
        )
    )
    created = []
    for village in targets:
        if village.pk in taken:
            continue
        rule = PointsRule(
            township_id=template.township_id,
            village=village,
            template=template,
            **{field: getattr(template, field) for field in RULE_COPY_FIELDS},
        )
        created.append(model_create(actor=actor, instance=rule, village_id=village.pk))
    return created


# --- the ledger -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posting:
    """One entry to append; ``ledger_append`` fills in the running balance."""

    account_id: int
    kind: str
    points: int
    occurred_on: dt.date
    rule: PointsRule | None = None
    rule_name: str = ""
    resident_id: int | None = None
    approved_by_id: int | None = None
    claim_id: int | None = None
    reverses_id: int | None = None
    redemption_id: int | None = None
    dedupe_key: str = ""
    note: str = ""


def _lock_accounts(account_ids: Iterable[int]) -> dict[int, Account]:
    """Lock accounts in pk order (the one order every writer uses) and return them by pk."""
    return {
        account.pk: account
        for account in Account.objects.filter(pk__in=set(account_ids))
        .order_by("pk")
        .select_for_update()
    }


def _household_number(account_id: int) -> str:
    return (
        Account.objects.filter(pk=account_id).values_list("household__number", flat=True).first()
        or ""
    )


@transaction.atomic
def ledger_append(*, recorded_by, postings: Sequence[Posting]) -> list[LedgerEntry]:
    """The only writer of ledger entries: lock, compute running balances, insert, update cache.

    Refuses (and writes nothing) if any account would go below zero or a once-only entry
    (same rule same day, yearly base grant) already exists.
    """
    if not postings:
        return []
    accounts = _lock_accounts(p.account_id for p in postings)
    original = {pk: account.balance for pk, account in accounts.items()}
    now = timezone.now()
    entries = []
    for posting in postings:
        account = accounts[posting.account_id]
        balance = account.balance + posting.points
        if balance < 0:
            raise ValidationError(
                _("户%(number)s积分余额不足：现有%(balance)d分，本次需扣%(need)d分")
                % {
                    "number": _household_number(account.pk),
                    "balance": account.balance,
                    "need": -posting.points,
                }
            )
        account.balance = balance
        entries.append(
            LedgerEntry(
                account_id=account.pk,
                resident_id=posting.resident_id,
                kind=posting.kind,
                rule=posting.rule,
                rule_name=posting.rule_name or (posting.rule.name if posting.rule else ""),
                points=posting.points,
                balance_after=balance,
                occurred_on=posting.occurred_on,
                recorded_at=now,
                recorded_by=recorded_by if getattr(recorded_by, "pk", None) else None,
                approved_by_id=posting.approved_by_id,
                claim_id=posting.claim_id,
                reverses_id=posting.reverses_id,
                redemption_id=posting.redemption_id,
                dedupe_key=posting.dedupe_key,
                note=posting.note[:300],
            )
        )
    try:
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
    except IntegrityError as exc:
        # The callers check first for a friendly message; this is the database's last word.
        raise ValidationError(_("重复记分：该记录已存在，未写入任何积分")) from exc
    # One UPDATE per distinct change (a bulk award is a single statement); the rows are locked,
    # so "balance + delta" equals the balance computed above.
    by_delta: dict[int, list[int]] = defaultdict(list)
    for account in accounts.values():
        by_delta[account.balance - original[account.pk]].append(account.pk)
    for delta, ids in by_delta.items():
        if delta:
            Account.objects.filter(pk__in=ids).update(balance=F("balance") + delta, updated_at=now)
    return entries


def accounts_ensure(household_ids: Iterable[int]) -> dict[int, int]:
    """household id → account id, creating missing accounts (safe under concurrency)."""
    household_ids = set(household_ids)
    found = dict(
        Account.objects.filter(household_id__in=household_ids).values_list("household_id", "pk")
    )
    missing = household_ids - found.keys()
    if not missing:
        return found
    # ignore_conflicts: another request may create the same account between the two queries.
    Account.objects.bulk_create(
        [Account(household_id=pk) for pk in missing], ignore_conflicts=True, batch_size=BATCH_SIZE
    )
    return dict(
        Account.objects.filter(household_id__in=household_ids).values_list("household_id", "pk")
    )


def _rule_kind(rule: PointsRule) -> str:
    return LedgerEntry.Kind.AWARD if rule.points > 0 else LedgerEntry.Kind.DEDUCTION


def _dedupe_key(rule: PointsRule, day: dt.date) -> str:
    return "" if rule.allow_same_day_repeat else f"rule:{rule.pk}:{day.isoformat()}"


def _check_rule_usable(rule: PointsRule, village_id: int, day: dt.date) -> None:
    if rule.village_id != village_id:
        raise ValidationError(_("积分事项“%(rule)s”不属于该村") % {"rule": rule.name})
    if day > timezone.localdate():
        raise ValidationError(_("事迹日期不能晚于今天"))
    if not rule.is_active_on(day):
        raise ValidationError(
            _("积分事项“%(rule)s”在%(day)s不在有效期内（%(start)s至%(end)s）")
            % {
                "rule": rule.name,
                "day": day.isoformat(),
                "start": rule.active_from.isoformat(),
                "end": rule.active_to.isoformat() if rule.active_to else _("长期"),
            }
        )


def _cap_violations(rule: PointsRule, account_ids: Sequence[int], day: dt.date) -> list[int]:
    """Accounts for which one more entry of ``rule`` on ``day`` would exceed a period cap.

    Reversed entries do not count. Call with the accounts locked, so the count cannot move.
    """
    caps = [
        (cap, period(day))
        for cap, period in (
            (rule.max_per_month, month_range),
            (rule.max_per_quarter, quarter_range),
            (rule.max_per_year, year_range),
        )
        if cap
    ]
    if not caps or not account_ids:
        return []
    year_start, year_end = year_range(day)
    rows = (
        LedgerEntry.objects.filter(
            account_id__in=account_ids,
            rule=rule,
            kind__in=[LedgerEntry.Kind.AWARD, LedgerEntry.Kind.DEDUCTION],
            occurred_on__range=(year_start, year_end),
            reversed_by__isnull=True,
        )
        .values("account_id")
        .annotate(
            **{
                f"n{i}": Count("pk", filter=Q(occurred_on__range=period))
                for i, (_cap, period) in enumerate(caps)
            }
        )
    )
    over = []
    for row in rows:
        if any(row[f"n{i}"] + 1 > cap for i, (cap, _period) in enumerate(caps)):
            over.append(row["account_id"])
    return over


def _cap_message(rule: PointsRule, numbers: Sequence[str]) -> str:
    limits = []
    if rule.max_per_month:
        limits.append(_("每月%(n)d次") % {"n": rule.max_per_month})
    if rule.max_per_quarter:
        limits.append(_("每季%(n)d次") % {"n": rule.max_per_quarter})
    if rule.max_per_year:
        limits.append(_("每年%(n)d次") % {"n": rule.max_per_year})
    return _("户%(numbers)s的“%(rule)s”已达上限（%(limits)s）") % {
        "numbers": "、".join(numbers),
        "rule": rule.name,
        "limits": "，".join(limits),
    }


def _same_day_duplicates(rule: PointsRule, account_ids: Sequence[int], day: dt.date) -> list[int]:
    key = _dedupe_key(rule, day)
    if not key:
        return []
    return list(
        LedgerEntry.objects.filter(account_id__in=account_ids, dedupe_key=key).values_list(
            "account_id", flat=True
        )
    )


def _check_award_allowed(rule: PointsRule, accounts: Mapping[int, str], day: dt.date) -> None:
    """``accounts``: account id → household number (for the message). Raises on any violation."""
    ids = list(accounts)
    duplicates = _same_day_duplicates(rule, ids, day)
    if duplicates:
        raise ValidationError(
            _("户%(numbers)s在%(day)s已记过“%(rule)s”，同一天不能重复记分")
            % {
                "numbers": "、".join(sorted(accounts[a] for a in duplicates)),
                "day": day.isoformat(),
                "rule": rule.name,
            }
        )
    over = _cap_violations(rule, ids, day)
    if over:
        raise ValidationError(_cap_message(rule, sorted(accounts[a] for a in over)))


# --- claims ---------------------------------------------------------------------------------------


@transaction.atomic
def claim_submit(
    *,
    actor,
    household: Household,
    rule: PointsRule,
    occurred_on: dt.date,
    note: str = "",
    resident: Resident | None = None,
    evidence=None,
) -> Claim:
    """A representative or staff member asks for points for a household's deed."""
    _require_can_see_household(actor, household)
    _check_rule_usable(rule, household.village_id, occurred_on)
    if resident is not None and resident.household_id != household.pk:
        raise ValidationError(_("所选村民不是该户成员"))
    if rule.subject == PointsRule.Subject.RESIDENT and resident is None:
        raise ValidationError(_("该事项以人计分，请选择村民"))
    account_id = Account.objects.filter(household=household).values_list("pk", flat=True).first()
    if account_id is not None:
        # Early, friendly refusal; the approval re-checks under the account lock.
        _check_award_allowed(rule, {account_id: household.number}, occurred_on)
    claim = Claim(
        household=household,
        resident=resident,
        rule=rule,
        occurred_on=occurred_on,
        note=note.strip(),
        submitted_by=actor,
    )
    if evidence:
        # Resized JPEG without the phone's EXIF (which can carry the GPS position), under an
        # unguessable name because media files are served without a login check.
        claim.evidence = photo_shrink(evidence, name_prefix=f"claim-{uuid.uuid4().hex}")
    # Fields were checked above and the constraints are in the database; full_clean() would
    # repeat the foreign-key lookups on the phone's slow connection for nothing.
    claim.save()
    audit_record(
        actor=actor,
        action="claim_submit",
        instance=claim,
        after=snapshot(claim),
        village_id=household.village_id,
    )
    return claim


def _check_deciding_meeting(meeting, village_id: int) -> None:
    """The meeting cited for a decision: given, of the same village, and already held."""
    from deliberation.models import Meeting

    if meeting is None:
        raise ValidationError(_("请选择作出决定的会议（本村已召开的会议）"))
    if meeting.village_id != village_id:
        raise ValidationError(_("所选会议不是本村的会议"))
    if meeting.status != Meeting.Status.HELD:
        raise ValidationError(_("所选会议尚未召开，不能作为审议依据"))


def _refuse_batch_member(claim: Claim) -> None:
    if claim.batch_id is not None:
        raise ValidationError(_("该申报属于批量申报，请在批量申报中整批审核"))


def _lock_pending_claim(claim: Claim) -> Claim:
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("household", "rule")
        .get(pk=claim.pk)
    )
    if claim.status != Claim.Status.PENDING:
        raise ValidationError(_("该申报已经处理过了"))
    return claim


@transaction.atomic
def claim_approve(*, actor, claim: Claim, meeting=None) -> LedgerEntry:
    """Approve a pending claim and write its ledger entry (caps and same-day rule under lock)."""
    claim = _lock_pending_claim(claim)
    household, rule = claim.household, claim.rule
    _refuse_batch_member(claim)
    if claim.submitted_by_id == actor.pk:
        raise ValidationError(_("不能审核自己提交的申报，请由其他村干部审核"))
    _require_village_staff(actor, household.village_id)
    if rule.needs_review:
        if meeting is None:
            raise ValidationError(_("该事项需经会议审议，请选择作出决定的会议"))
        _check_deciding_meeting(meeting, household.village_id)
    _check_rule_usable(rule, household.village_id, claim.occurred_on)
    account_id = accounts_ensure([household.pk])[household.pk]
    _lock_accounts([account_id])
    _check_award_allowed(rule, {account_id: household.number}, claim.occurred_on)
    before = snapshot(claim)
    claim.status = Claim.Status.APPROVED
    claim.decided_by = actor
    claim.decided_at = timezone.now()
    claim.meeting = meeting
    claim.save(update_fields=["status", "decided_by", "decided_at", "meeting"])
    (entry,) = ledger_append(
        recorded_by=claim.submitted_by,
        postings=[
            Posting(
                account_id=account_id,
                kind=_rule_kind(rule),
                points=rule.points,
                occurred_on=claim.occurred_on,
                rule=rule,
                resident_id=claim.resident_id,
                approved_by_id=actor.pk,
                claim_id=claim.pk,
                dedupe_key=_dedupe_key(rule, claim.occurred_on),
                note=claim.note,
            )
        ],
    )
    audit_record(
        actor=actor,
        action="claim_approve",
        instance=claim,
        before=before,
        after=snapshot(claim),
        village_id=household.village_id,
    )
    return entry


@transaction.atomic
def claim_reject(*, actor, claim: Claim, reason: str) -> Claim:
    claim = _lock_pending_claim(claim)
    _refuse_batch_member(claim)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("驳回时请填写理由"))
    if claim.submitted_by_id == actor.pk:
        raise ValidationError(_("不能审核自己提交的申报，请由其他村干部审核"))
    _require_village_staff(actor, claim.household.village_id)
    before = snapshot(claim)
    claim.status = Claim.Status.REJECTED
    claim.decided_by = actor
    claim.decided_at = timezone.now()
    claim.reason = reason[:300]
    claim.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    audit_record(
        actor=actor,
        action="claim_reject",
        instance=claim,
        before=before,
        after=snapshot(claim),
        village_id=claim.household.village_id,
    )
    return claim


def _check_batchable(rule: PointsRule) -> None:
    if rule.needs_review:
        raise ValidationError(_("需会议审议的事项不能批量记分，请逐户申报并关联会议"))
    if rule.subject == PointsRule.Subject.RESIDENT:
        raise ValidationError(_("以人计分的事项不能批量记分，请逐人申报"))


def _award_many(
    *,
    rule: PointsRule,
    account_numbers: Mapping[int, str],
    occurred_on: dt.date,
    note: str,
    recorded_by,
    approved_by,
    claim_of: Mapping[int, int] | None = None,
) -> list[LedgerEntry]:
    """One entry of ``rule`` per account, written in bulk under the accounts' locks.

    ``account_numbers``: account id → household number (for messages); ``claim_of``: account
    id → the claim the entry settles. All entries or none.
    """
    _lock_accounts(account_numbers)
    _check_award_allowed(rule, account_numbers, occurred_on)
    kind, key = _rule_kind(rule), _dedupe_key(rule, occurred_on)
    claim_of = claim_of or {}
    return ledger_append(
        recorded_by=recorded_by,
        postings=[
            Posting(
                account_id=account_id,
                kind=kind,
                points=rule.points,
                occurred_on=occurred_on,
                rule=rule,
                approved_by_id=approved_by.pk,
                claim_id=claim_of.get(account_id),
                dedupe_key=key,
                note=note,
            )
            for account_id in sorted(account_numbers)
        ],
    )


@transaction.atomic
def claim_batch_submit(
    *,
    actor,
    rule: PointsRule,
    households: Sequence[Household],
    occurred_on: dt.date,
    note: str = "",
) -> ClaimBatch:
    """批量记分: one rule for many households in one form, as a batch of claims that another
    staff member approves (``claim_batch_approve``) — the recorder never approves it himself."""
    if not households:
        raise ValidationError(_("请至少选择一户"))
    _require_village_staff(actor, rule.village_id or 0)
    _check_batchable(rule)
    numbers = {h.pk: h.number for h in households}
    if any(h.village_id != rule.village_id for h in households):
        raise ValidationError(_("所选农户不全属于该村"))
    _check_rule_usable(rule, rule.village_id, occurred_on)
    existing = dict(
        Account.objects.filter(household_id__in=numbers).values_list("pk", "household_id")
    )
    if existing:
        # Early, friendly refusal; the approval re-checks under the accounts' locks.
        _check_award_allowed(rule, {a: numbers[h] for a, h in existing.items()}, occurred_on)
    note = note.strip()
    batch = ClaimBatch.objects.create(
        rule=rule,
        village_id=rule.village_id,
        occurred_on=occurred_on,
        note=note,
        size=len(numbers),
        submitted_by=actor,
    )
    Claim.objects.bulk_create(
        [
            Claim(
                household_id=household_id,
                rule=rule,
                occurred_on=occurred_on,
                note=note,
                submitted_by=actor,
                batch=batch,
            )
            for household_id in sorted(numbers)
        ],
        batch_size=BATCH_SIZE,
    )
    audit_record(
        actor=actor,
        action="claim_batch_submit",
        instance=batch,
        after={**snapshot(batch), "households": sorted(numbers)},
        village_id=rule.village_id,
    )
    return batch


def _lock_pending_batch(batch: ClaimBatch) -> ClaimBatch:
    batch = (
        ClaimBatch.objects.select_for_update(of=("self",)).select_related("rule").get(pk=batch.pk)
    )
    if batch.status != ClaimBatch.Status.PENDING:
        raise ValidationError(_("该批量申报已经处理过了"))
    return batch


@transaction.atomic
def claim_batch_approve(*, actor, batch: ClaimBatch) -> list[LedgerEntry]:
    """Approve every claim of the batch and write their entries in bulk (all or none)."""
    batch = _lock_pending_batch(batch)
    if batch.submitted_by_id == actor.pk:
        raise ValidationError(_("不能审核自己提交的申报，请由其他村干部审核"))
    _require_village_staff(actor, batch.village_id)
    rule = batch.rule
    _check_batchable(rule)
    _check_rule_usable(rule, batch.village_id, batch.occurred_on)
    claims = list(batch.claims.values_list("pk", "household_id", "household__number"))
    account_of = accounts_ensure(h for _pk, h, _n in claims)
    entries = _award_many(
        rule=rule,
        account_numbers={account_of[h]: number for _pk, h, number in claims},
        occurred_on=batch.occurred_on,
        note=batch.note,
        recorded_by=batch.submitted_by,
        approved_by=actor,
        claim_of={account_of[h]: pk for pk, h, _n in claims},
    )
    now = timezone.now()
    Claim.objects.filter(batch=batch).update(
        status=Claim.Status.APPROVED, decided_by=actor, decided_at=now
    )
    before = snapshot(batch)
    batch.status = ClaimBatch.Status.APPROVED
    batch.decided_by = actor
    batch.decided_at = now
    batch.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action="claim_batch_approve",
        instance=batch,
        before=before,
        after={
            **snapshot(batch),
            "first_entry": entries[0].pk,
            "last_entry": entries[-1].pk,
        },
        village_id=batch.village_id,
    )
    return entries


@transaction.atomic
def claim_batch_reject(*, actor, batch: ClaimBatch, reason: str) -> ClaimBatch:
    """Reject the whole batch with a reason; no entry is written."""
    batch = _lock_pending_batch(batch)
    reason = reason.strip()[:300]
    if not reason:
        raise ValidationError(_("驳回时请填写理由"))
    if batch.submitted_by_id == actor.pk:
        raise ValidationError(_("不能审核自己提交的申报，请由其他村干部审核"))
    _require_village_staff(actor, batch.village_id)
    now = timezone.now()
    Claim.objects.filter(batch=batch).update(
        status=Claim.Status.REJECTED, decided_by=actor, decided_at=now, reason=reason
    )
    before = snapshot(batch)
    batch.status = ClaimBatch.Status.REJECTED
    batch.decided_by = actor
    batch.decided_at = now
    batch.reason = reason
    batch.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    audit_record(
        actor=actor,
        action="claim_batch_reject",
        instance=batch,
        before=before,
        after=snapshot(batch),
        village_id=batch.village_id,
    )
    return batch


@transaction.atomic
def entry_reverse(*, actor, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Correct a mistaken entry by appending its opposite; an entry is reversed at most once."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("冲正时请填写原因"))
    village_id = entry.account.household.village_id
    _require_village_staff(actor, village_id)
    if entry.kind == LedgerEntry.Kind.REVERSAL:
        raise ValidationError(_("冲正记录不能再冲正"))
    if entry.kind == LedgerEntry.Kind.REDEMPTION:
        raise ValidationError(_("兑换记录请通过撤销兑换单冲正"))
    _lock_accounts([entry.account_id])
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("该记录已经冲正过，不能重复冲正"))
    (reversal,) = ledger_append(
        recorded_by=actor,
        postings=[_reversal_posting(entry, actor, reason)],
    )
    audit_record(
        actor=actor,
        action="entry_reverse",
        instance=reversal,
        after=snapshot(reversal),
        village_id=village_id,
    )
    return reversal


def _reversal_posting(entry: LedgerEntry, actor, note: str) -> Posting:
    return Posting(
        account_id=entry.account_id,
        kind=LedgerEntry.Kind.REVERSAL,
        points=-entry.points,
        occurred_on=timezone.localdate(),
        rule=entry.rule,
        rule_name=entry.rule_name or entry.get_kind_display(),
        resident_id=entry.resident_id,
        approved_by_id=actor.pk,
        reverses_id=entry.pk,
        redemption_id=entry.redemption_id,
        note=note,
    )


# --- jobs ---------------------------------------------------------------------------------------


@transaction.atomic
def _base_points_grant_batch(*, household_ids: list[int], year: int, points: int) -> int:
    key = f"base:{year}"
    account_of = accounts_ensure(household_ids)
    _lock_accounts(account_of.values())
    done = set(
        LedgerEntry.objects.filter(account_id__in=account_of.values(), dedupe_key=key).values_list(
            "account_id", flat=True
        )
    )
    postings = [
        Posting(
            account_id=account_id,
            kind=LedgerEntry.Kind.BASE,
            points=points,
            occurred_on=dt.date(year, 1, 1),
            rule_name=_("%(year)d年度基础分") % {"year": year},
            dedupe_key=key,
        )
        for account_id in sorted(account_of.values())
        if account_id not in done
    ]
    ledger_append(recorded_by=None, postings=postings)
    return len(postings)


def base_points_grant(
    *, year: int, points: int = 100, village_ids: Sequence[int] | None = None, actor=None
) -> int:
    """Grant the yearly 基础分 to every household once; running it again grants nothing.

    Each batch is its own transaction so that a city-sized run does not hold 1,000,000 row
    locks at once; the once-per-year key makes a rerun after a failure pick up where it stopped.
    """
    if points <= 0:
        raise ValidationError(_("基础分必须大于0"))
    households = Household.objects.order_by("pk")
    if village_ids is not None:
        households = households.filter(village_id__in=village_ids)
    ids = list(households.values_list("pk", flat=True))
    granted = 0
    for start in range(0, len(ids), BATCH_SIZE):
        granted += _base_points_grant_batch(
            household_ids=ids[start : start + BATCH_SIZE], year=year, points=points
        )
    AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action="base_points_grant",
        object_type=LedgerEntry._meta.label_lower,
        object_id=f"base:{year}",
        object_repr=_("%(year)d年度基础分") % {"year": year},
        after={"year": year, "points": points, "granted": granted},
    )
    return granted


@dataclass(frozen=True)
class LedgerMismatch:
    account_id: int
    household_number: str
    cached: int
    actual: int


def ledger_consistency_check() -> list[LedgerMismatch]:
    """Accounts whose cached balance differs from the sum of their entries (should be none)."""
    rows = (
        Account.objects.annotate(actual=Coalesce(Sum("entries__points"), 0))
        .exclude(balance=F("actual"))
        .values_list("pk", "household__number", "balance", "actual")
        .order_by("pk")
    )
    return [LedgerMismatch(*row) for row in rows]


# --- the points supermarket ---------------------------------------------------------------------


@transaction.atomic
def shop_create(*, actor, village: Village, name: str = "积分超市") -> Shop:
    _require_village_staff(actor, village.pk)
    return model_create(
        actor=actor, instance=Shop(village=village, name=name.strip()), village_id=village.pk
    )


@transaction.atomic
def shop_rename(*, actor, shop: Shop, name: str) -> Shop:
    _require_village_staff(actor, shop.village_id)
    shop = Shop.objects.select_for_update().get(pk=shop.pk)
    return model_update(
        actor=actor, instance=shop, data={"name": name.strip()}, village_id=shop.village_id
    )


@transaction.atomic
def product_create(
    *, actor, shop: Shop, name: str, points_price: int, active: bool = True
) -> Product:
    _require_village_staff(actor, shop.village_id)
    if points_price <= 0:
        raise ValidationError(_("兑换积分必须大于0"))
    product = Product(shop=shop, name=name.strip(), points_price=points_price, active=active)
    return model_create(actor=actor, instance=product, village_id=shop.village_id)


@transaction.atomic
def product_update(
    *,
    actor,
    product: Product,
    points_price: int | None = None,
    active: bool | None = None,
    name: str | None = None,
) -> Product:
    """Name, price and shelf status; stock changes only through stock movements. Receipts keep
    the price they were made at."""
    _require_village_staff(actor, product.shop.village_id)
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = snapshot(product)
    if points_price is not None:
        if points_price <= 0:
            raise ValidationError(_("兑换积分必须大于0"))
        product.points_price = points_price
    if active is not None:
        product.active = active
    if name is not None and name.strip() != product.name:
        name = name.strip()
        if Product.objects.filter(shop_id=product.shop_id, name=name).exists():
            raise ValidationError(_("本超市已有商品“%(name)s”") % {"name": name})
        product.name = name
    product.save(update_fields=["points_price", "active", "name"])
    audit_record(
        actor=actor,
        action="update",
        instance=product,
        before=before,
        after=snapshot(product),
        village_id=product.shop.village_id,
    )
    return product


def _stock_move(
    *, actor, product: Product, quantity: int, kind: str, note: str = "", **extra
) -> StockMovement:
    locked = Product.objects.select_for_update().select_related("shop").get(pk=product.pk)
    _require_village_staff(actor, locked.shop.village_id)
    if quantity == 0:
        raise ValidationError(_("数量不能为0"))
    if locked.stock + quantity < 0:
        raise ValidationError(
            _("商品“%(name)s”库存不足：现有%(stock)d件")
            % {"name": locked.name, "stock": locked.stock}
        )
    movement = StockMovement.objects.create(
        product=locked,
        quantity=quantity,
        kind=kind,
        note=note.strip()[:200],
        by=actor,
        at=timezone.now(),
        **extra,
    )
    Product.objects.filter(pk=locked.pk).update(stock=F("stock") + quantity)
    audit_record(
        actor=actor,
        action=f"stock_{kind}",
        instance=movement,
        after=snapshot(movement),
        village_id=locked.shop.village_id,
    )
    return movement


@transaction.atomic
def stock_purchase(
    *, actor, product: Product, quantity: int, cost_yuan: Decimal, note: str = ""
) -> StockMovement:
    """采购入库, with what the village paid (the village's spending report sums these)."""
    if quantity <= 0:
        raise ValidationError(_("入库数量必须大于0"))
    if cost_yuan is None or cost_yuan < 0:
        raise ValidationError(_("请填写采购金额（元）"))
    return _stock_move(
        actor=actor,
        product=product,
        quantity=quantity,
        kind=StockMovement.Kind.PURCHASE,
        cost_yuan=cost_yuan,
        note=note,
    )


@transaction.atomic
def stock_donation(
    *, actor, product: Product, quantity: int, donor: str, note: str = ""
) -> StockMovement:
    """捐赠入库, e.g. from a 乡贤; the donor's name is shown on the stock report."""
    if quantity <= 0:
        raise ValidationError(_("入库数量必须大于0"))
    if not donor.strip():
        raise ValidationError(_("请填写捐赠人"))
    return _stock_move(
        actor=actor,
        product=product,
        quantity=quantity,
        kind=StockMovement.Kind.DONATION,
        donor=donor.strip()[:60],
        note=note,
    )


@transaction.atomic
def stock_correct(*, actor, product: Product, quantity: int, note: str) -> StockMovement:
    """盘点更正 (signed); never below zero."""
    if not note.strip():
        raise ValidationError(_("盘点更正请填写原因"))
    return _stock_move(
        actor=actor,
        product=product,
        quantity=quantity,
        kind=StockMovement.Kind.CORRECTION,
        note=note,
    )


@transaction.atomic
def household_redeem(
    *,
    actor,
    household: Household,
    shop: Shop,
    quantities: Mapping[int, int],
    request_key: str,
) -> Redemption:
    """Exchange points for goods at the counter: points and stock debited together.

    ``quantities`` maps product id → quantity. ``request_key`` comes from the counter form; a
    second submission of the same form returns the first redemption instead of spending again.
    """
    _require_village_staff(actor, household.village_id)
    if shop.village_id != household.village_id:
        raise ValidationError(_("该超市不属于农户所在的村"))
    wanted = {int(pk): int(qty) for pk, qty in quantities.items() if int(qty) != 0}
    if any(qty < 0 for qty in wanted.values()):
        raise ValidationError(_("数量不能为负数"))
    if not wanted:
        raise ValidationError(_("请至少选择一件商品"))
    if not request_key:
        raise ValidationError(_("兑换单已失效，请重新打开兑换页面"))
    account_id = accounts_ensure([household.pk])[household.pk]
    account = _lock_accounts([account_id])[account_id]
    existing = Redemption.objects.filter(request_key=request_key).first()
    if existing is not None:
        if existing.account_id != account_id:
            raise ValidationError(_("兑换单已失效，请重新打开兑换页面"))
        return existing
    products = list(
        Product.objects.filter(pk__in=wanted, shop=shop).order_by("pk").select_for_update()
    )
    if len(products) != len(wanted):
        raise ValidationError(_("所选商品不存在或不属于本超市"))
    total = 0
    for product in products:
        qty = wanted[product.pk]
        if not product.active:
            raise ValidationError(_("商品“%(name)s”已下架") % {"name": product.name})
        if product.stock < qty:
            raise ValidationError(
                _("商品“%(name)s”库存不足：现有%(stock)d件，需要%(qty)d件")
                % {"name": product.name, "stock": product.stock, "qty": qty}
            )
        total += qty * product.points_price
    if account.balance < total:
        raise ValidationError(
            _("积分余额不足：现有%(balance)d分，本次兑换需要%(total)d分")
            % {"balance": account.balance, "total": total}
        )
    now = timezone.now()
    redemption = Redemption.objects.create(
        account=account, shop=shop, total_points=total, by=actor, at=now, request_key=request_key
    )
    RedemptionLine.objects.bulk_create(
        [
            RedemptionLine(
                redemption=redemption,
                product=p,
                quantity=wanted[p.pk],
                unit_points=p.points_price,
            )
            for p in products
        ]
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                product=p,
                quantity=-wanted[p.pk],
                kind=StockMovement.Kind.REDEMPTION,
                redemption=redemption,
                by=actor,
                at=now,
            )
            for p in products
        ]
    )
    for p in products:
        Product.objects.filter(pk=p.pk).update(stock=F("stock") - wanted[p.pk])
    summary = "、".join(f"{p.name}×{wanted[p.pk]}" for p in products)
    ledger_append(
        recorded_by=actor,
        postings=[
            Posting(
                account_id=account.pk,
                kind=LedgerEntry.Kind.REDEMPTION,
                points=-total,
                occurred_on=timezone.localdate(),
                rule_name=_("积分超市兑换"),
                approved_by_id=actor.pk,
                redemption_id=redemption.pk,
                note=summary,
            )
        ],
    )
    audit_record(
        actor=actor,
        action="household_redeem",
        instance=redemption,
        after={"total_points": total, "lines": summary, "household": household.pk},
        village_id=household.village_id,
    )
    return redemption


@transaction.atomic
def redemption_cancel(*, actor, redemption: Redemption, reason: str) -> Redemption:
    """Undo a redemption: a reversal entry gives the points back, the stock returns."""
    reason = written_text(
        reason,
        max_length=Redemption._meta.get_field("cancel_reason").max_length,
        label=_("撤销原因"),
    )
    if not reason:
        raise ValidationError(_("撤销时请填写原因"))
    redemption = (
        Redemption.objects.select_for_update(of=("self",))
        .select_related("shop")
        .get(pk=redemption.pk)
    )
    _require_village_staff(actor, redemption.shop.village_id)
    if redemption.status != Redemption.Status.DONE:
        raise ValidationError(_("该兑换单已经撤销过了"))
    _lock_accounts([redemption.account_id])
    lines = list(redemption.lines.order_by("product_id"))
    # Locked in pk order, after the account, like household_redeem.
    list(
        Product.objects.filter(pk__in=[line.product_id for line in lines])
        .order_by("pk")
        .select_for_update()
    )
    entry = LedgerEntry.objects.get(redemption=redemption, kind=LedgerEntry.Kind.REDEMPTION)
    now = timezone.now()
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                product_id=line.product_id,
                quantity=line.quantity,
                kind=StockMovement.Kind.RETURN,
                redemption=redemption,
                note=reason[:200],
                by=actor,
                at=now,
            )
            for line in lines
        ]
    )
    for line in lines:
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
    ledger_append(recorded_by=actor, postings=[_reversal_posting(entry, actor, reason)])
    before = snapshot(redemption)
    redemption.status = Redemption.Status.CANCELLED
    redemption.cancelled_by = actor
    redemption.cancelled_at = now
    redemption.cancel_reason = reason[:200]
    redemption.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
    audit_record(
        actor=actor,
        action="redemption_cancel",
        instance=redemption,
        before=before,
        after=snapshot(redemption),
        village_id=redemption.shop.village_id,
    )
    return redemption


# --- prize tiers (the quarterly lists' prizes) ----------------------------------------------------


def _check_prize_tier(village_id: int, rank_from: int, rank_to: int, product: Product) -> None:
    if rank_from < 1 or rank_to < rank_from:
        raise ValidationError(_("名次范围无效：起始名次至少为1，且不大于截止名次"))
    if product.shop.village_id != village_id:
        raise ValidationError(_("奖品必须是本村积分超市的商品"))


@transaction.atomic
def prize_tier_create(
    *, actor, village: Village, rank_from: int, rank_to: int, product: Product
) -> PrizeTier:
    """e.g. ranks 1–4 a mattress, 5–10 a blanket (the lists job gives them at publication)."""
    _require_village_staff(actor, village.pk)
    _check_prize_tier(village.pk, rank_from, rank_to, product)
    tier = PrizeTier(village=village, rank_from=rank_from, rank_to=rank_to, product=product)
    return model_create(actor=actor, instance=tier, village_id=village.pk)


@transaction.atomic
def prize_tier_update(*, actor, tier: PrizeTier, changes: Mapping[str, object]) -> PrizeTier:
    unknown = set(changes) - {"rank_from", "rank_to", "product"}
    if unknown:
        raise ValidationError(
            _("奖励档次的这些内容不能修改：%(fields)s") % {"fields": "、".join(sorted(unknown))}
        )
    tier = PrizeTier.objects.select_for_update().get(pk=tier.pk)
    _require_village_staff(actor, tier.village_id)
    _check_prize_tier(
        tier.village_id,
        changes.get("rank_from", tier.rank_from),
        changes.get("rank_to", tier.rank_to),
        changes.get("product", tier.product),
    )
    return model_update(actor=actor, instance=tier, data=dict(changes), village_id=tier.village_id)


# --- honours --------------------------------------------------------------------------------------


@transaction.atomic
def honour_award(
    *,
    actor,
    household: Household,
    title: str,
    year: int,
    meeting,
    note: str = "",
) -> Honour:
    """文明家庭, 美丽家园示范户, 最美庭院…: once per household, title and year.

    Awarded by staff with the held meeting of the village that decided it; a household above
    the points threshold (``selectors.honour_candidates``) is only a proposal for that meeting.
    A household on a current black list of any quarter of ``year`` is not eligible.
    """
    _require_village_staff(actor, household.village_id)
    title = title.strip()
    if not title:
        raise ValidationError(_("请填写荣誉称号"))
    _check_deciding_meeting(meeting, household.village_id)
    black = black_listed_quarters(household_ids=[household.pk], year=year).get(household.pk)
    if black:
        raise ValidationError(
            _("户%(number)s在%(quarters)s上了黑榜，不能授予%(year)d年度的荣誉称号")
            % {
                "number": household.number,
                "quarters": "、".join(quarter_label(q) for q in black),
                "year": year,
            }
        )
    if Honour.objects.filter(household=household, title=title, year=year).exists():
        raise ValidationError(
            _("户%(number)s已获得%(year)d年度“%(title)s”称号")
            % {"number": household.number, "year": year, "title": title}
        )
    honour = Honour(
        household=household,
        title=title,
        year=year,
        awarded_by=actor,
        awarded_at=timezone.now(),
        meeting=meeting,
        note=note.strip(),
    )
    return model_create(actor=actor, instance=honour, village_id=household.village_id)
