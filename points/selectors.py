"""Reads for the points pages, each scoped to the user asking (deny by default)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from grids.access import UserScope
from grids.models import Household, mask_name

from .lists import black_listed_quarters, quarter_label
from .models import (
    Account,
    Claim,
    ClaimBatch,
    Honour,
    LedgerEntry,
    PointsRule,
    Product,
    Shop,
    StockMovement,
)

PASSBOOK_PUBLIC_ENTRIES = 10


def claim_queue(*, scope: UserScope, status: str = Claim.Status.PENDING) -> QuerySet[Claim]:
    """Single claims of the villages this staff member manages, oldest pending first.

    Claims of a batch are left out: they are decided together, from ``batch_queue``.
    """
    if not scope.is_staff_role:
        return Claim.objects.none()
    return (
        Claim.objects.filter(
            scope.village_q("household__village"), status=status, batch__isnull=True
        )
        .select_related("household", "household__head", "resident", "rule", "submitted_by")
        .order_by("submitted_at", "pk")
    )


def batch_queue(
    *, scope: UserScope, status: str = ClaimBatch.Status.PENDING
) -> QuerySet[ClaimBatch]:
    """批量申报 of the villages this staff member manages, oldest first."""
    if not scope.is_staff_role:
        return ClaimBatch.objects.none()
    return (
        ClaimBatch.objects.filter(scope.village_q("village"), status=status)
        .select_related("rule", "village", "submitted_by")
        .order_by("submitted_at", "pk")
    )


def batch_for_decision(*, scope: UserScope, batch_id: int) -> ClaimBatch:
    """A pending batch of the user's villages. Raises ClaimBatch.DoesNotExist (→ 404)."""
    return batch_queue(scope=scope).select_related("rule__category").get(pk=batch_id)


def batch_households(*, batch: ClaimBatch) -> QuerySet[Household]:
    """The households of a batch, by 户号, with the head's name for the approver to check."""
    return (
        Household.objects.filter(points_claims__batch=batch)
        .select_related("head")
        .only("number", "head__name")
        .order_by("number")
    )


def batches_submitted_by(*, user, limit: int = 10) -> list[ClaimBatch]:
    return list(
        ClaimBatch.objects.filter(submitted_by=user)
        .select_related("rule", "decided_by")
        .order_by("-submitted_at", "-pk")[:limit]
    )


def claims_submitted_by(*, user) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(submitted_by=user)
        .select_related("household", "rule", "decided_by")
        .order_by("-submitted_at", "-pk")
    )


def claim_for_decision(*, scope: UserScope, claim_id: int) -> Claim:
    """Raises Claim.DoesNotExist outside the user's villages (→ 404)."""
    return claim_queue(scope=scope).get(pk=claim_id)


def rules_in_force(*, scope: UserScope, village_id: int, on: dt.date | None = None):
    """Village rules usable today (for claim and bulk award forms)."""
    on = on or timezone.localdate()
    return (
        PointsRule.objects.filter(scope.village_q("village"), village_id=village_id)
        .filter(active_from__lte=on)
        .filter(Q(active_to__isnull=True) | Q(active_to__gte=on))
        .select_related("category")
        .order_by("category__kind", "category__name", "code")
    )


def rule_list(*, scope: UserScope) -> QuerySet[PointsRule]:
    """Rules of the user's villages plus their township's templates."""
    if scope.is_anonymous or scope.role is None and not scope.is_superuser:
        return PointsRule.objects.none()
    templates = (
        Q(village__isnull=True, township_id=scope.township_id)
        if not scope.is_superuser
        else Q(village__isnull=True)
    )
    return (
        PointsRule.objects.filter(scope.village_q("village") | templates)
        .select_related("village", "category", "legal_basis")
        .order_by("village__code", "category__kind", "code")
    )


@dataclass(frozen=True)
class Passbook:
    household: Household
    account: Account | None
    entries: list[LedgerEntry]
    honours: list[Honour]

    @property
    def balance(self) -> int:
        return self.account.balance if self.account else 0


def passbook(*, scope: UserScope, household_id: int) -> Passbook:
    """A household's 积分存折: every entry in order. Raises Household.DoesNotExist (→ 404)."""
    household = (
        scope.households()
        .select_related("village", "village__township", "grid", "head")
        .get(pk=household_id)
    )
    account = Account.objects.filter(household=household).first()
    entries = list(account.entries.select_related("resident").order_by("id")) if account else []
    honours = list(Honour.objects.filter(household=household).order_by("-year", "title"))
    return Passbook(household=household, account=account, entries=entries, honours=honours)


@dataclass(frozen=True)
class PublicPassbook:
    village_name: str
    household_number: str
    head_masked: str
    balance: int
    rank: int
    ranked_households: int
    entries: list[LedgerEntry]


def public_passbook(*, public_code: str) -> PublicPassbook:
    """What anyone holding the household's code may see. Raises Household.DoesNotExist."""
    household = (
        Household.objects.select_related("village", "head")
        .only("number", "public_code", "village__name", "head__name")
        .get(public_code=public_code.strip().upper())
    )
    account = Account.objects.filter(household=household).only("balance").first()
    balance = account.balance if account else 0
    village_accounts = Account.objects.filter(household__village_id=household.village_id)
    # Dense rank by current balance among the village's households with an account.
    rank = village_accounts.filter(balance__gt=balance).values("balance").distinct().count() + 1
    entries = (
        list(
            account.entries.only(
                "account", "occurred_on", "kind", "rule_name", "points", "balance_after"
            ).order_by("-id")[:PASSBOOK_PUBLIC_ENTRIES]
        )
        if account
        else []
    )
    return PublicPassbook(
        village_name=household.village.name,
        household_number=household.number,
        head_masked=mask_name(household.head.name) if household.head else "",
        balance=balance,
        rank=rank,
        ranked_households=Household.objects.filter(village_id=household.village_id).count(),
        entries=entries,
    )


def counter_households(*, scope: UserScope, search: str) -> QuerySet[Household]:
    """Households for the redemption counter: 户号, head's name, or the passbook's public code."""
    search = search.strip()
    if not search or not scope.is_staff_role:
        return Household.objects.none()
    if "/p/passbook/" in search:
        # A scanner reading the passbook's QR code types the whole public URL.
        search = search.rstrip("/").rsplit("/", 1)[-1]
    condition = Q(number=search) | Q(head__name__contains=search) | Q(public_code=search.upper())
    return (
        scope.households()
        .filter(condition)
        .select_related("village", "head", "points_account")
        .order_by("village__code", "number")[:20]
    )


def counter_household(*, scope: UserScope, household_id: int) -> Household:
    if not scope.is_staff_role:
        raise Household.DoesNotExist
    return (
        scope.households().select_related("village", "head", "points_account").get(pk=household_id)
    )


def shops_for_village(*, scope: UserScope, village_id: int) -> QuerySet[Shop]:
    return Shop.objects.filter(scope.village_q("village"), village_id=village_id).order_by("pk")


def visible_shops(*, scope: UserScope) -> QuerySet[Shop]:
    if not scope.is_staff_role:
        return Shop.objects.none()
    return (
        Shop.objects.filter(scope.village_q("village"))
        .select_related("village")
        .order_by("village__code", "pk")
    )


def shop_products(*, shop: Shop, active_only: bool = True) -> QuerySet[Product]:
    qs = Product.objects.filter(shop=shop)
    if active_only:
        qs = qs.filter(active=True)
    return qs.order_by("name")


@dataclass(frozen=True)
class StockLine:
    product: Product
    purchased: int
    donated: int
    redeemed: int
    returned: int
    corrected: int
    spent_yuan: Decimal


@dataclass(frozen=True)
class StockReport:
    shop: Shop
    start: dt.date
    end: dt.date
    lines: list[StockLine]
    spent_yuan: Decimal
    donations: list[StockMovement]


def shop_stock_report(
    *, scope: UserScope, shop_id: int, start: dt.date, end: dt.date
) -> StockReport:
    """Stock in/out per product and the village's spending (yuan) over [start, end], local dates."""
    shop = visible_shops(scope=scope).get(pk=shop_id)
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    in_period = Q(movements__at__gte=since, movements__at__lt=until)

    def qty(kind):
        return Sum("movements__quantity", filter=in_period & Q(movements__kind=kind), default=0)

    products = (
        Product.objects.filter(shop=shop)
        .annotate(
            purchased=qty(StockMovement.Kind.PURCHASE),
            donated=qty(StockMovement.Kind.DONATION),
            redeemed=qty(StockMovement.Kind.REDEMPTION),
            returned=qty(StockMovement.Kind.RETURN),
            corrected=qty(StockMovement.Kind.CORRECTION),
            spent=Sum(
                "movements__cost_yuan",
                filter=in_period & Q(movements__kind=StockMovement.Kind.PURCHASE),
                default=Decimal("0"),
            ),
        )
        .order_by("name")
    )
    lines = [
        StockLine(
            product=p,
            purchased=p.purchased,
            donated=p.donated,
            redeemed=-p.redeemed,
            returned=p.returned,
            corrected=p.corrected,
            spent_yuan=p.spent,
        )
        for p in products
    ]
    donations = list(
        StockMovement.objects.filter(
            product__shop=shop, kind=StockMovement.Kind.DONATION, at__gte=since, at__lt=until
        )
        .select_related("product")
        .order_by("-at")[:50]
    )
    return StockReport(
        shop=shop,
        start=start,
        end=end,
        lines=lines,
        spent_yuan=sum((line.spent_yuan for line in lines), Decimal("0")),
        donations=donations,
    )


def meetings_for_village(*, village_id: int):
    """Held meetings of the village, newest first, for the 'decided by' choice.

    Not sliced: the form validates the posted id against this queryset and shows only the newest.
    """
    from deliberation.models import Meeting

    return Meeting.objects.filter(village_id=village_id, status=Meeting.Status.HELD).order_by(
        "-held_at", "-pk"
    )


def village_households(*, scope: UserScope, village_id: int) -> QuerySet[Household]:
    return (
        scope.households()
        .filter(village_id=village_id)
        .select_related("head", "grid")
        .order_by("grid__code", "number")
    )


def pending_claim_count(*, scope: UserScope) -> int:
    """Pending single claims plus pending batches (each batch is one decision)."""
    return (
        claim_queue(scope=scope).aggregate(n=Count("pk"))["n"]
        + batch_queue(scope=scope).aggregate(n=Count("pk"))["n"]
    )


def honours_for_village(*, scope: UserScope, village_id: int, year: int) -> QuerySet[Honour]:
    return (
        Honour.objects.filter(
            scope.village_q("household__village"), household__village_id=village_id, year=year
        )
        .select_related("household", "household__head", "meeting")
        .order_by("title", "household__number")
    )


@dataclass(frozen=True)
class HonourCandidate:
    household_id: int
    number: str
    head_name: str
    earned: int
    # Quarters of the year whose current black list names the household: not eligible.
    black_listed: tuple[str, ...] = ()

    @property
    def black_listed_label(self) -> str:
        return "、".join(quarter_label(q) for q in self.black_listed)


def honour_candidates(
    *, scope: UserScope, village_id: int, threshold: int, year: int, limit: int = 50
) -> list[HonourCandidate]:
    """Households that earned at least ``threshold`` points in ``year`` and hold no honour of
    that year yet, most first. A household on a current black list of a quarter of the year is
    listed with those quarters (``black_listed``): it cannot be awarded.

    Earned = awards and deductions dated in the year and not reversed, as the red/black lists
    count a quarter: the base grant is everyone's, and redeeming at the shop spends points
    but does not undo the deeds, so neither moves a household on or off this list.
    """
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    rows = (
        LedgerEntry.objects.filter(
            scope.village_q("account__household__village"),
            account__household__village_id=village_id,
            kind__in=[LedgerEntry.Kind.AWARD, LedgerEntry.Kind.DEDUCTION],
            occurred_on__range=(start, end),
            reversed_by__isnull=True,
        )
        .exclude(account__household__honours__year=year)
        .values_list("account__household_id", "account__household__number")
        .annotate(earned=Sum("points"), head=Max("account__household__head__name"))
        .filter(earned__gte=threshold)
        .order_by("-earned", "account__household__number")[:limit]
    )
    rows = list(rows)
    black = black_listed_quarters(household_ids=[row[0] for row in rows], year=year)
    return [
        HonourCandidate(
            household_id=hid,
            number=number,
            head_name=head or "",
            earned=earned,
            black_listed=black.get(hid, ()),
        )
        for hid, number, earned, head in rows
    ]


def honour_for_certificate(*, scope: UserScope, honour_id: int) -> Honour:
    return (
        Honour.objects.filter(scope.village_q("household__village"))
        .select_related("household", "household__head", "household__village__township", "meeting")
        .get(pk=honour_id)
    )


# --- public honours (村务公开栏) ------------------------------------------------------------------

PUBLIC_BOARD_HONOURS = 30
PUBLIC_HONOURS_MAX = 1000


@dataclass(frozen=True)
class PublicHonour:
    title: str
    year: int
    # The head's masked name (张*明); the 户号 when no head is recorded. Nothing else of the household.
    name: str


def public_honours(*, village_id: int, limit: int = PUBLIC_HONOURS_MAX) -> list[PublicHonour]:
    """A village's honours for anonymous visitors, newest year first: title, year, masked name.

    Reads only the four columns it shows, so no note, address or resident data reaches a template.
    """
    rows = (
        Honour.objects.filter(household__village_id=village_id)
        .order_by("-year", "title", "household__number")
        .values_list("title", "year", "household__number", "household__head__name")[:limit]
    )
    return [
        PublicHonour(title=title, year=year, name=mask_name(head) if head else number)
        for title, year, number, head in rows
    ]
