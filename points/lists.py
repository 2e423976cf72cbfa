"""Quarterly red/black lists (红黑榜): compute from the ledger, publish, correct by revision.

The ranking reads one aggregate per village and theme: the quarter's award and deduction
entries (reversed entries excluded) summed per household, with the count of black-list
offences. Both colours are derived from that one result: black-listed households first, then
the others ranked by net points with ties sharing a rank, so that every household tied at rank
N is on the list.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import scope_of
from grids.batches import unit_transaction, village_batches
from grids.models import Household, Resident, Village, mask_name
from grids.services import audit_record, snapshot
from grids.validators import written_text

from .models import (
    LedgerEntry,
    ListEntry,
    ListPolicy,
    ListPublication,
    Objection,
    PointsRule,
    PrizeTier,
)

QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")
# Months and quarters staff may ask for: a typed 0000 or 9999 is a mistake, not a period.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def year_check(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            _("年份超出范围：只能查看%(first)s年至%(last)s年")
            % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )


# --- quarters ------------------------------------------------------------------------------------


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """'2026Q3' → (2026-07-01, 2026-10-01): local dates, end exclusive."""
    match = QUARTER_RE.match(quarter or "")
    if not match:
        raise ValidationError(_("季度格式应为 YYYYQn，例如 2026Q3"))
    year, q = int(match.group(1)), int(match.group(2))
    year_check(year)
    start = dt.date(year, 3 * (q - 1) + 1, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return start, end


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def previous_quarter(day: dt.date) -> str:
    start, _end = quarter_bounds(quarter_of(day))
    return quarter_of(start - dt.timedelta(days=1))


def quarter_label(quarter: str) -> str:
    match = QUARTER_RE.match(quarter)
    return _("%(year)s年第%(q)s季度") % {"year": match.group(1), "q": match.group(2)}


# --- ranking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    household_id: int
    colour: str
    rank: int | None
    points: int
    offences: int


def _moved_out(village_ids: list[int]):
    """Households of the villages whose residents are all 迁出/死亡 (a subquery): they are no
    longer on their village's lists. Those with someone gone come from a small partial index
    (resident_gone); only they are checked for anyone still living there."""
    living = Resident.objects.filter(
        household_id=OuterRef("household_id"),
        status__in=[Resident.Status.PRESENT, Resident.Status.AWAY],
    )
    return (
        Resident.objects.filter(
            household__village_id__in=village_ids,
            status__in=[Resident.Status.MOVED, Resident.Status.DECEASED],
        )
        .exclude(Exists(living))
        .values("household_id")
    )


def _quarter_totals(*, villages: list[Village], quarter: str, category_id: int | None):
    """Per village and household: net award+deduction points and black-list offences (a
    queryset with the columns vid, hid, net, offences; reversed entries and moved-out households
    left out). The rules that matter (the townships' black-list offences, the theme's category)
    are read first as a handful of ids, so the aggregate never joins the rules table, which
    grows with the city."""
    start, end = quarter_bounds(quarter)
    village_ids = [v.pk for v in villages]
    rules = PointsRule.objects.filter(township_id__in={v.township_id for v in villages})
    offence_ids = list(rules.filter(black_list_offence=True).values_list("id", flat=True))
    entries = (
        LedgerEntry.objects.filter(
            account__household__village_id__in=village_ids,
            kind__in=[LedgerEntry.Kind.AWARD, LedgerEntry.Kind.DEDUCTION],
            occurred_on__gte=start,
            occurred_on__lt=end,
        )
        .exclude(
            # NOT EXISTS rather than a left join: the planner then estimates the rows kept.
            Exists(LedgerEntry.objects.filter(reverses=OuterRef("pk")))
        )
        .exclude(account__household_id__in=_moved_out(village_ids))
    )
    if category_id is not None:
        theme_ids = list(rules.filter(category_id=category_id).values_list("id", flat=True))
        entries = entries.filter(rule_id__in=theme_ids)
    offences = (
        Count("id", filter=Q(kind=LedgerEntry.Kind.DEDUCTION, rule_id__in=offence_ids))
        if offence_ids
        else Value(0)
    )
    return (
        entries.values(vid=F("account__household__village_id"), hid=F("account__household_id"))
        .annotate(net=Sum("points"), offences=offences)
        .order_by()
    )


# The policy's conditions (_policy_sql) go into these; values are passed as parameters.
LISTS_SQL = """
    WITH totals AS ({totals}),
    flagged AS (
        SELECT vid, hid, net, offences, CASE WHEN {black} THEN 1 ELSE 0 END AS black FROM totals
    )
    SELECT vid, hid, net, offences, NULL AS place FROM flagged WHERE black = 1
"""
RED_SQL = """
    UNION ALL
    SELECT vid, hid, net, offences, place FROM (
        SELECT vid, hid, net, offences, RANK() OVER (PARTITION BY vid ORDER BY net DESC) AS place
        FROM flagged WHERE black = 0 AND net > 0
    ) ranked WHERE {red}
"""


def _policy_sql(policy: ListPolicy) -> tuple[str, list, str | None, list]:
    """The policy as SQL conditions on (net, offences) for black and (place, net) for red."""
    black, black_params = [], []
    if policy.black_on_offence:
        black.append("offences > 0")
    if policy.black_max_points is not None:
        black.append("net <= %s")
        black_params.append(policy.black_max_points)
    red, red_params = [], []
    if policy.red_top_n is not None:
        red.append("place <= %s")
        red_params.append(policy.red_top_n)
    if policy.red_min_points is not None:
        red.append("net >= %s")
        red_params.append(policy.red_min_points)
    joiner = " AND " if policy.red_combine == ListPolicy.Combine.AND else " OR "
    return " OR ".join(black) or "1 = 0", black_params, joiner.join(red) or None, red_params


def _policy_key(policy: ListPolicy) -> tuple:
    return (
        policy.black_on_offence,
        policy.black_max_points,
        policy.red_top_n,
        policy.red_min_points,
        policy.red_combine,
    )


def quarter_ranked(
    *,
    villages: list[Village],
    quarter: str,
    policies: dict[int, ListPolicy],
    category_id: int | None = None,
) -> dict[int, list[Ranked]]:
    """Each village's black list (lowest net first), then its red list ranked by net with ties
    sharing a rank (RANK(): 1, 2, 2, 4) among the households with positive net not on the black
    list, so that every household tied at rank N is on the list.

    One statement for all the villages that share a policy (usually all of them): the quarter
    totals, the black condition and the ranking are computed in the database, and only the
    households on a list come back. A village missing from ``policies`` has the defaults.
    """
    out: dict[int, list[Ranked]] = {v.pk: [] for v in villages}
    sharing: dict[tuple, tuple[ListPolicy, list[Village]]] = {}
    for village in villages:
        policy = policies.get(village.pk) or ListPolicy(village_id=village.pk)
        sharing.setdefault(_policy_key(policy), (policy, []))[1].append(village)
    for policy, members in sharing.values():
        totals = _quarter_totals(villages=members, quarter=quarter, category_id=category_id)
        totals_sql, params = totals.query.sql_with_params()
        black, black_params, red, red_params = _policy_sql(policy)
        sql = LISTS_SQL.format(totals=totals_sql, black=black)  # noqa: S608 (from the policy)
        if red is not None:
            sql += RED_SQL.format(red=red)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *black_params, *red_params])
            rows = cursor.fetchall()
        for vid, hid, net, offences, place in rows:
            colour = "black" if place is None else "red"
            out[vid].append(Ranked(hid, colour, place, net, offences))
    for items in out.values():
        # Black first, lowest net first; then red by rank (ties by household, as RANK leaves them).
        items.sort(
            key=lambda r: (
                r.colour == "red",
                r.points if r.colour == "black" else -r.points,
                r.household_id,
            )
        )
    return out


def rank_quarter(
    *,
    village: Village,
    quarter: str,
    policy: ListPolicy,
    category_id: int | None = None,
) -> list[Ranked]:
    """One village's lists for the quarter and theme (see :func:`quarter_ranked`)."""
    return quarter_ranked(
        villages=[village], quarter=quarter, policies={village.pk: policy}, category_id=category_id
    )[village.pk]


# --- publication --------------------------------------------------------------------------------


def public_cache_key(village_code: str) -> str:
    return f"points:public-lists:{village_code}"


def _invalidate_public_page(village_code: str) -> None:
    transaction.on_commit(lambda: cache.delete(public_cache_key(village_code)))


def _reason(item: Ranked, theme: str) -> str:
    if item.colour == "red":
        return _("季度净积分%(points)s分，第%(rank)s名") % {
            "points": item.points,
            "rank": item.rank,
        }
    if item.offences:
        return _("本季度有%(n)s项黑榜事项") % {"n": item.offences}
    return _("季度净积分%(points)s分") % {"points": item.points}


def _public_name(number: str, head_name: str | None, colour: str, mask_black: bool) -> str:
    """The head's name (masked on the black list when the policy says so), or the 户号."""
    if head_name is None:
        return _("%(number)s户") % {"number": number}
    if colour == "black" and mask_black:
        return mask_name(head_name)
    return head_name


def _quarter_black_ids(*, village: Village, quarter: str, policy: ListPolicy) -> set[int]:
    """Households black-listed in any theme of the quarter: the lists already published, and
    the courtyard list that a run publishes after the overall one."""
    black = ineligible_household_ids(village_id=village.pk, quarter=quarter)
    courtyard = policy.courtyard_category_id
    if (
        courtyard
        and not ListPublication.objects.filter(
            village=village, quarter=quarter, theme=ListPublication.Theme.COURTYARD
        ).exists()
    ):
        ranked = rank_quarter(
            village=village, quarter=quarter, policy=policy, category_id=courtyard
        )
        black |= {r.household_id for r in ranked if r.colour == "black"}
    return black


def _prize_ranks(
    *, village: Village, quarter: str, policy: ListPolicy, ranked: list[Ranked]
) -> dict[int, int]:
    """The place of each red household in the prize tiers: its rank among the red households
    that are eligible (ties share a place). A household black-listed in any theme of the
    quarter keeps its rank on the list but wins nothing, and those below it move up."""
    red = [r for r in ranked if r.colour == "red"]
    if not red:
        return {}
    black = _quarter_black_ids(village=village, quarter=quarter, policy=policy)
    places: dict[int, int] = {}
    place = 0
    previous = None
    for position, item in enumerate((r for r in red if r.household_id not in black), start=1):
        if item.points != previous:
            place, previous = position, item.points
        places[item.household_id] = place
    return places


def _household_names(household_ids) -> dict[int, tuple[str, str | None]]:
    """{household: (户号, head's name)} for the households on a list."""
    return {
        pk: (number, head_name)
        for pk, number, head_name in Household.objects.filter(pk__in=household_ids)
        .order_by()
        .values_list("pk", "number", "head__name")
    }


@dataclass
class GroupFacts:
    """What a run reads once for its group of villages instead of once per village."""

    published: set[tuple[int, str]]  # (village, theme) with a publication for the quarter
    names: dict[int, tuple[str, str | None]]  # the listed households' 户号 and head's name
    tiers: dict[int, list[PrizeTier]]  # each village's prize tiers, by rank_from


def group_facts(*, village_ids: list[int], quarter: str, ranked: dict[int, list[Ranked]]):
    tiers: dict[int, list[PrizeTier]] = {}
    for tier in PrizeTier.objects.filter(village_id__in=village_ids).order_by("rank_from"):
        tiers.setdefault(tier.village_id, []).append(tier)
    return GroupFacts(
        published=set(
            ListPublication.objects.filter(village_id__in=village_ids, quarter=quarter)
            .values_list("village_id", "theme")
            .distinct()
        ),
        names=_household_names([r.household_id for items in ranked.values() for r in items]),
        tiers=tiers,
    )


def _publish_theme(
    *,
    village: Village,
    quarter: str,
    theme: str,
    policy: ListPolicy,
    now: dt.datetime,
    ranked: list[Ranked] | None = None,
    known: GroupFacts | None = None,
) -> tuple[ListPublication, bool]:
    """Publish one theme's list (revision 1) unless the quarter already has one; inside the
    caller's transaction (the run's unit).

    ``ranked`` and ``known`` come from a run that has read its group of villages together
    (:class:`ListsRun`); whatever they don't hold is read here.
    """
    existing = ListPublication.objects.filter(village=village, quarter=quarter, theme=theme)
    if (village.pk, theme) in known.published if known else existing.exists():
        return existing.order_by("-revision").first(), False
    category_id = policy.courtyard_category_id if theme == ListPublication.Theme.COURTYARD else None
    if ranked is None:
        ranked = rank_quarter(
            village=village, quarter=quarter, policy=policy, category_id=category_id
        )
    households = dict(known.names) if known else {}
    missing = [r.household_id for r in ranked if r.household_id not in households]
    if missing:
        households.update(_household_names(missing))
    tiers = []
    if theme == ListPublication.Theme.OVERALL:
        tiers = (
            known.tiers.get(village.pk, [])
            if known
            else list(PrizeTier.objects.filter(village=village).order_by("rank_from"))
        )
    prize_ranks = (
        _prize_ranks(village=village, quarter=quarter, policy=policy, ranked=ranked)
        if tiers
        else {}
    )
    publication = ListPublication(
        village=village,
        quarter=quarter,
        theme=theme,
        revision=1,
        status=ListPublication.Status.PUBLISHED,
        published_at=now,
        objection_until=timezone.localdate(now) + dt.timedelta(days=policy.objection_days),
        mask_black_names=policy.mask_black_names,
    )
    try:
        with transaction.atomic():
            publication.save()
    except IntegrityError:
        # Another worker published the same list a moment ago: theirs stands.
        return existing.order_by("-revision").first(), False
    entries = []
    for item in ranked:
        prize = None
        if item.household_id in prize_ranks:
            place = prize_ranks[item.household_id]
            prize = next((t.product_id for t in tiers if t.rank_from <= place <= t.rank_to), None)
        entries.append(
            ListEntry(
                publication=publication,
                household_id=item.household_id,
                colour=item.colour,
                rank=item.rank,
                points=item.points,
                reason=_reason(item, theme),
                public_name=_public_name(
                    *households[item.household_id], item.colour, policy.mask_black_names
                ),
                prize_id=prize,
            )
        )
    ListEntry.objects.bulk_create(entries)
    audit_record(
        actor=None,
        action="list_publish",
        instance=publication,
        after={**snapshot(publication), "entries": len(entries)},
        village_id=village.pk,
    )
    _invalidate_public_page(village.code)
    return publication, True


def themes_for(policy: ListPolicy) -> list[str]:
    themes = [ListPublication.Theme.OVERALL]
    if policy.courtyard_category_id:
        themes.append(ListPublication.Theme.COURTYARD)
    return themes


class ListsRun:
    """Publishing a quarter's lists village by village. The overall lists of a group of
    villages (up to ``BATCH_VILLAGES``) are ranked together, with what their publication needs
    (names, prize tiers, what is already published), when the first of them comes up; each
    village's lists are then published in their own transaction, so a worker killed half-way
    loses at most the village it was publishing and a rerun completes the rest."""

    def __init__(self, villages: list[Village], quarter: str, now: dt.datetime | None = None):
        quarter_bounds(quarter)
        self.quarter = quarter
        self.now = now or timezone.now()
        self.groups = village_batches(villages)
        self.policies = {
            p.village_id: p for p in ListPolicy.objects.filter(village__in=[v.pk for v in villages])
        }
        self.pending: dict[int, list[Ranked]] = {}
        self.known: GroupFacts | None = None

    def publish(self, village: Village) -> list[ListPublication]:
        """Publish the village's lists for the quarter; a second run changes nothing."""
        # A village without a policy gets the defaults (top 10, offences, names masked).
        policy = self.policies.get(village.pk) or ListPolicy(village=village)
        if village.pk not in self.pending:
            group = self.groups[village.pk]
            self.pending = quarter_ranked(
                villages=group, quarter=self.quarter, policies=self.policies
            )
            self.known = group_facts(
                village_ids=[v.pk for v in group], quarter=self.quarter, ranked=self.pending
            )
        overall = self.pending.pop(village.pk)
        with unit_transaction():
            return [
                _publish_theme(
                    village=village,
                    quarter=self.quarter,
                    theme=theme,
                    policy=policy,
                    now=self.now,
                    ranked=overall if theme == ListPublication.Theme.OVERALL else None,
                    known=self.known,
                )[0]
                for theme in themes_for(policy)
            ]


def village_lists_publish(
    *, village: Village, quarter: str, now: dt.datetime | None = None
) -> list[ListPublication]:
    """Publish one village's lists for the quarter; a second run changes nothing."""
    return ListsRun([village], quarter, now).publish(village)


@transaction.atomic
def list_entry_withdraw(*, actor, entry: ListEntry, reason: str) -> ListPublication:
    """Withdraw one entry: a new revision with the entry marked withdrawn; the old is kept."""
    reason = written_text(
        reason, max_length=ListEntry._meta.get_field("withdrawn_reason").max_length, label=_("理由")
    )
    if not reason:
        raise ValidationError(_("撤下上榜记录时请填写理由"))
    current = ListPublication.objects.select_for_update().get(pk=entry.publication_id)
    if not scope_of(actor).can_manage_village(current.village_id):
        raise ValidationError(_("您无权修改该村的红黑榜"))
    if current.status != ListPublication.Status.PUBLISHED:
        raise ValidationError(_("该版本已被新版本取代，请在最新版本上操作"))
    if entry.withdrawn:
        raise ValidationError(_("该记录已撤下"))
    before = snapshot(current)
    current.status = ListPublication.Status.SUPERSEDED
    current.save(update_fields=["status"])
    revision = ListPublication.objects.create(
        village_id=current.village_id,
        quarter=current.quarter,
        theme=current.theme,
        revision=current.revision + 1,
        status=ListPublication.Status.PUBLISHED,
        published_at=timezone.now(),
        objection_until=current.objection_until,
        mask_black_names=current.mask_black_names,
        reason=reason,
        created_by=actor,
    )
    copies = []
    for old in current.entries.all():
        withdrawn = old.withdrawn or old.pk == entry.pk
        copies.append(
            ListEntry(
                publication=revision,
                household_id=old.household_id,
                colour=old.colour,
                rank=old.rank,
                points=old.points,
                reason=old.reason,
                public_name=old.public_name,
                prize_id=None if old.pk == entry.pk else old.prize_id,
                withdrawn=withdrawn,
                withdrawn_reason=reason if old.pk == entry.pk else old.withdrawn_reason,
            )
        )
    ListEntry.objects.bulk_create(copies)
    audit_record(
        actor=actor,
        action="list_entry_withdraw",
        instance=revision,
        before=before,
        after={**snapshot(revision), "withdrawn_entry": entry.pk, "household": entry.household_id},
        village_id=current.village_id,
    )
    village_code = Village.objects.values_list("code", flat=True).get(pk=current.village_id)
    _invalidate_public_page(village_code)
    return revision


# --- objections (异议) ---------------------------------------------------------------------------


@transaction.atomic
def objection_record(*, actor, entry: ListEntry, text: str) -> Objection:
    """A villager's objection, recorded by staff while the objection window is open."""
    text = written_text(
        text, max_length=Objection._meta.get_field("text").max_length, label=_("异议内容")
    )
    if not text:
        raise ValidationError({"text": _("请填写异议内容")})
    publication = entry.publication
    if not scope_of(actor).can_manage_village(publication.village_id):
        raise ValidationError(_("您无权修改该村的红黑榜"))
    if publication.status != ListPublication.Status.PUBLISHED or entry.withdrawn:
        raise ValidationError(_("该记录已不在当前公示版本中"))
    if timezone.localdate() > publication.objection_until:
        raise ValidationError(
            _("异议期已于%(day)s结束") % {"day": publication.objection_until.isoformat()}
        )
    objection = Objection.objects.create(
        entry=entry, text=text, recorded_by=actor, recorded_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="list_objection",
        instance=objection,
        after=snapshot(objection),
        village_id=publication.village_id,
    )
    return objection


@transaction.atomic
def objection_decide(*, actor, objection: Objection, upheld: bool, decision: str) -> Objection:
    """Uphold (the entry is withdrawn: a new revision) or dismiss, with the reasons written down."""
    objection = Objection.objects.select_for_update().select_related("entry").get(pk=objection.pk)
    decision = written_text(
        decision, max_length=Objection._meta.get_field("decision").max_length, label=_("处理意见")
    )
    if not decision:
        raise ValidationError({"decision": _("请填写处理意见")})
    if objection.status != Objection.Status.OPEN:
        raise ValidationError(_("该异议已处理"))
    before = snapshot(objection)
    if upheld:
        list_entry_withdraw(actor=actor, entry=objection.entry, reason=decision)
    elif not scope_of(actor).can_manage_village(objection.entry.publication.village_id):
        raise ValidationError(_("您无权修改该村的红黑榜"))
    objection.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    objection.decision = decision
    objection.save(update_fields=["status", "decision"])
    audit_record(
        actor=actor,
        action="list_objection_decide",
        instance=objection,
        before=before,
        after=snapshot(objection),
        village_id=objection.entry.publication.village_id,
    )
    return objection


# --- reads --------------------------------------------------------------------------------------


def current_publications(village: Village):
    return ListPublication.objects.filter(
        village=village, status=ListPublication.Status.PUBLISHED
    ).order_by("-quarter", "theme")


def ineligible_household_ids(*, village_id: int, quarter: str) -> set[int]:
    """Households on the current black list of the quarter: not eligible for its awards."""
    return set(
        ListEntry.objects.filter(
            publication__village_id=village_id,
            publication__quarter=quarter,
            publication__status=ListPublication.Status.PUBLISHED,
            colour=ListEntry.Colour.BLACK,
            withdrawn=False,
        ).values_list("household_id", flat=True)
    )


def black_listed_quarters(*, household_ids, year: int) -> dict[int, tuple[str, ...]]:
    """Household id → the quarters of ``year`` whose current black list names it (entries not
    withdrawn): such a household is not eligible for that year's honours."""
    rows = (
        ListEntry.objects.filter(
            household_id__in=list(household_ids),
            publication__quarter__startswith=f"{year}Q",
            publication__status=ListPublication.Status.PUBLISHED,
            colour=ListEntry.Colour.BLACK,
            withdrawn=False,
        )
        .values_list("household_id", "publication__quarter")
        .distinct()
        .order_by("household_id", "publication__quarter")
    )
    quarters: dict[int, list[str]] = {}
    for household_id, quarter in rows:
        quarters.setdefault(household_id, []).append(quarter)
    return {household_id: tuple(qs) for household_id, qs in quarters.items()}
