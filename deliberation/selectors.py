"""Every read of deliberation, scoped to the user; the counts behind each vote's outcome."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, When
from django.http import Http404
from django.utils import timezone

from grids.access import NOTHING, UserScope
from grids.models import Grid, Household, Representative, Resident, Role, Village

from .models import (
    Article,
    Attendance,
    BallotTally,
    Body,
    Commitment,
    Meeting,
    Membership,
    Motion,
    RuleVersion,
    Vote,
    VoteReceipt,
)
from .outcome import (
    BodyRules,
    Outcome,
    Tally,
    configured_outcome,
    household_ballot_outcome,
    representatives_assembly_outcome,
    villagers_assembly_outcome,
)

LIVING = (Resident.Status.PRESENT, Resident.Status.AWAY)
GONE = (Resident.Status.MOVED, Resident.Status.DECEASED)


def still_inhabited_q() -> Q:
    """Households that still count: not every member 迁出/死亡. The points app keeps the same
    households off its lists: someone gone and nobody 在村 or 外出 left. (A household with
    no residents recorded at all is kept, as it is there.)"""
    household = OuterRef("pk")
    living = Resident.objects.filter(household=household, status__in=LIVING)
    gone = Resident.objects.filter(household=household, status__in=GONE)
    return Q(Exists(living)) | ~Q(Exists(gone))


def adult_cutoff(on: dt.date) -> dt.date:
    """Born on or before this date = aged 18 or more on ``on``."""
    try:
        return on.replace(year=on.year - 18)
    except ValueError:  # 29 February
        return on.replace(year=on.year - 18, day=28)


def _adult_q(on: dt.date, path: str = "") -> Q:
    # An unknown birth date counts as adult on both sides of the quorum fraction.
    prefix = f"{path}__" if path else ""
    return Q(**{f"{prefix}birth_date__lte": adult_cutoff(on)}) | Q(
        **{f"{prefix}birth_date__isnull": True}
    )


def meeting_date(meeting: Meeting) -> dt.date:
    return timezone.localdate(meeting.held_at or meeting.scheduled_at)


# --- electorates -------------------------------------------------------------------------


def meeting_roster_households(*, meeting: Meeting) -> QuerySet[Household]:
    """Households that may be present: the meeting's grid, or the whole village, leaving out
    households whose members have all moved out or died."""
    households = Household.objects.filter(still_inhabited_q(), village_id=meeting.village_id)
    if meeting.grid_id:
        households = households.filter(grid_id=meeting.grid_id)
    return households


def meeting_roster_residents(*, meeting: Meeting) -> QuerySet[Resident]:
    residents = Resident.objects.filter(household__village_id=meeting.village_id, status__in=LIVING)
    if meeting.grid_id:
        residents = residents.filter(household__grid_id=meeting.grid_id)
    return residents


def _active_members(body_id: int, on: dt.date) -> QuerySet[Membership]:
    return Membership.objects.filter(body_id=body_id, joined_on__lte=on).filter(
        Q(left_on__isnull=True) | Q(left_on__gt=on)
    )


def meeting_electorate_counts(*, meeting: Meeting) -> dict[str, int]:
    """Live sizes of the electorate; frozen onto the meeting when it is concluded."""
    on = meeting_date(meeting)
    return {
        "adults": meeting_roster_residents(meeting=meeting).filter(_adult_q(on)).count(),
        "households": meeting_roster_households(meeting=meeting).count(),
        "members": _active_members(meeting.body_id, on).count() if meeting.body_id else 0,
    }


def meeting_voted_resident_ids(*, meeting: Meeting) -> set[int]:
    votes = Vote.objects.filter(motion__meeting=meeting, resident__isnull=False)
    receipts = VoteReceipt.objects.filter(motion__meeting=meeting, resident__isnull=False)
    return set(votes.values_list("resident_id", flat=True)) | set(
        receipts.values_list("resident_id", flat=True)
    )


def motion_eligible_households(*, motion: Motion) -> QuerySet[Household]:
    """One vote each: the village's (or the grid's) households that still have a member."""
    households = Household.objects.filter(still_inhabited_q(), village_id=motion.village_id)
    if motion.grid_id:
        households = households.filter(grid_id=motion.grid_id)
    return households


def motion_tallies(*, motions: list[Motion]) -> dict[int, Tally]:
    """Tallies of many motions in two queries (named votes; secret running counts)."""
    counts: dict[int, dict[str, int]] = {m.pk: {} for m in motions}
    secret = [m.pk for m in motions if m.secret]
    named = [m.pk for m in motions if not m.secret]
    for motion_id, choice, n in BallotTally.objects.filter(motion_id__in=secret).values_list(
        "motion_id", "choice", "count"
    ):
        counts[motion_id][choice] = n
    for row in (
        Vote.objects.filter(motion_id__in=named)
        .values("motion_id", "choice")
        .annotate(n=Count("id"))
    ):
        counts[row["motion_id"]][row["choice"]] = row["n"]
    return {
        pk: Tally(yes=c.get("yes", 0), no=c.get("no", 0), abstain=c.get("abstain", 0))
        for pk, c in counts.items()
    }


def motion_tally(*, motion: Motion) -> Tally:
    return motion_tallies(motions=[motion])[motion.pk]


def motion_voted_count(*, motion: Motion) -> int:
    """How many have voted — all an open secret ballot may show (its tallies stay sealed
    until it closes, or comparing the page before and after a vote would reveal it)."""
    return (VoteReceipt if motion.secret else Vote).objects.filter(motion=motion).count()


def motion_tallies_sealed(motion: Motion) -> bool:
    return motion.secret and motion.status != Motion.Status.CLOSED


def _attendance_counts_many(meetings: list[Meeting]) -> dict[int, dict[str, int]]:
    """Who was present at each meeting, in two queries whatever the number of meetings."""
    rows = Attendance.objects.filter(meeting_id__in=[m.pk for m in meetings]).values_list(
        "meeting_id", "resident_id", "household_id", "proxy_for_id", "resident__birth_date"
    )
    body_ids = {m.body_id for m in meetings if m.body_id}
    memberships = Membership.objects.filter(body_id__in=body_ids).values_list(
        "body_id", "resident_id", "joined_on", "left_on"
    )
    members: dict[int, list[tuple[int, dt.date, dt.date | None]]] = {}
    for body_id, resident_id, joined_on, left_on in memberships:
        members.setdefault(body_id, []).append((resident_id, joined_on, left_on))
    by_meeting: dict[int, list] = {m.pk: [] for m in meetings}
    for row in rows:
        by_meeting[row[0]].append(row)
    result = {}
    for meeting in meetings:
        on = meeting_date(meeting)
        cutoff = adult_cutoff(on)
        active = {
            resident_id
            for resident_id, joined_on, left_on in members.get(meeting.body_id, [])
            if joined_on <= on and (left_on is None or left_on > on)
        }
        attending = by_meeting[meeting.pk]
        households = {r[2] for r in attending} | {r[3] for r in attending if r[3]}
        result[meeting.pk] = {
            "present": len(attending),
            # An unknown birth date counts as adult, as in the eligible count.
            "adults_present": sum(1 for r in attending if r[4] is None or r[4] <= cutoff),
            "households_represented": len(households),
            "members_present": sum(1 for r in attending if r[1] in active),
        }
    return result


def _attendance_counts(meeting: Meeting) -> dict[str, int]:
    return _attendance_counts_many([meeting])[meeting.pk]


def _frozen_electorate(motion: Motion) -> dict[str, int] | None:
    if motion.status != Motion.Status.CLOSED or motion.eligible_households is None:
        return None
    return {
        "adults": motion.eligible_adults or 0,
        "households": motion.eligible_households,
        "members": motion.eligible_members or 0,
    }


def motion_electorate(*, motion: Motion) -> dict[str, int]:
    """Size of the electorate: frozen on a closed motion, live while voting is open."""
    frozen = _frozen_electorate(motion)
    if frozen is not None:
        return frozen
    if motion.mode == Motion.Mode.HOUSEHOLD_BALLOT:
        return {
            "adults": 0,
            "households": motion_eligible_households(motion=motion).count(),
            "members": 0,
        }
    return meeting_electorate_counts(meeting=motion.meeting)


def _decide(motion: Motion, tally: Tally, counts: dict | None, eligible: dict) -> Outcome:
    if motion.mode == Motion.Mode.HOUSEHOLD_BALLOT:
        return household_ballot_outcome(
            households_voted=tally.cast, households_total=eligible["households"], tally=tally
        )
    body = motion.meeting.body
    if body is not None and body.is_villagers_assembly:
        return villagers_assembly_outcome(
            adults_present=counts["adults_present"],
            adults_eligible=eligible["adults"],
            households_represented=counts["households_represented"],
            households_total=eligible["households"],
            present=counts["present"],
            tally=tally,
        )
    if body is not None and body.is_representatives_assembly:
        return representatives_assembly_outcome(
            members_present=counts["members_present"],
            members_total=eligible["members"],
            tally=tally,
        )
    rules = (
        BodyRules() if body is None else BodyRules(**(motion.body_rules or body.rules_snapshot()))
    )
    members_vote = motion.electorate == Motion.Electorate.MEMBERS
    return configured_outcome(
        rules=rules,
        members_present=counts["members_present"],
        members_total=eligible["members"],
        present=counts["members_present"] if members_vote else counts["present"],
        tally=tally,
    )


def motion_outcome(*, motion: Motion) -> Outcome:
    """Validity and result of ``motion``, computed from the stored attendance and votes."""
    tally = motion_tally(motion=motion)
    counts = _attendance_counts(motion.meeting) if motion.meeting_id else None
    return _decide(motion, tally, counts, motion_electorate(motion=motion))


def closed_motion_outcomes(*, motions: list[Motion]) -> list[tuple[Motion, Outcome]]:
    """Results of many closed motions in a fixed number of queries (their electorates are
    frozen). ``motions`` must come with ``meeting__body`` selected."""
    tallies = motion_tallies(motions=motions)
    meetings = list({m.meeting_id: m.meeting for m in motions if m.meeting_id}.values())
    counts = _attendance_counts_many(meetings)
    results = []
    for motion in motions:
        eligible = _frozen_electorate(motion) or motion_electorate(motion=motion)
        results.append(
            (motion, _decide(motion, tallies[motion.pk], counts.get(motion.meeting_id), eligible))
        )
    return results


# --- staff pages -------------------------------------------------------------------------


def body_list(*, scope: UserScope, village_id: int | None = None) -> QuerySet[Body]:
    bodies = Body.objects.filter(scope.village_q("village")).select_related("village", "grid")
    if village_id:
        bodies = bodies.filter(village_id=village_id)
    return bodies.annotate(
        member_count=Count("memberships", filter=Q(memberships__left_on__isnull=True))
    )


def body_get(*, scope: UserScope, pk: int) -> Body:
    body = (
        Body.objects.filter(scope.village_q("village"), pk=pk)
        .select_related("village", "grid")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(left_on__isnull=True).select_related(
                    "resident__household__grid"
                ),
                to_attr="active_memberships",
            )
        )
        .first()
    )
    if body is None:
        raise Http404
    return body


def body_active_memberships(*, body: Body) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(body=body, left_on__isnull=True)
        .select_related("resident")
        .order_by("role", "id")
    )


def meeting_list(*, scope: UserScope, village_id: int | None = None) -> QuerySet[Meeting]:
    meetings = Meeting.objects.filter(scope.village_q("village")).select_related(
        "village", "body", "grid"
    )
    if village_id:
        meetings = meetings.filter(village_id=village_id)
    return meetings.annotate(attendance_count=Count("attendances", distinct=True))


def _visible_requests_q(scope: UserScope) -> Q:
    """The requests of a meeting's links this user may open: the same rule as the request
    pages (a grid leader sees their grid's, staff their village's or township's)."""
    if scope.is_superuser:
        return Q()
    if scope.role == Role.GRID_LEADER:
        return Q(request__grid_id=scope.grid_id) if scope.grid_id else NOTHING
    if scope.role in (Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF):
        return scope.village_q("request__village")
    return NOTHING


def _request_links_prefetch(scope: UserScope) -> list[Prefetch]:
    # The link table belongs to the governance app, which points at Meeting; it is reached
    # through the reverse relation so that deliberation never imports governance.
    try:
        links = Meeting._meta.get_field("request_links").related_model
    except FieldDoesNotExist:
        return []
    return [
        Prefetch(
            "request_links",
            queryset=links.objects.filter(_visible_requests_q(scope))
            .select_related("request")
            .order_by("linked_at", "pk"),
            to_attr="visible_request_links",
        )
    ]


def household_ballots(*, scope: UserScope, village_id: int | None = None) -> QuerySet[Motion]:
    """Household ballots (no meeting), not yet closed first, then the latest closed."""
    ballots = Motion.objects.filter(
        scope.village_q("village"), mode=Motion.Mode.HOUSEHOLD_BALLOT
    ).select_related("village", "grid")
    if village_id:
        ballots = ballots.filter(village_id=village_id)
    closed_last = Case(When(status=Motion.Status.CLOSED, then=1), default=0)
    return ballots.order_by(closed_last, "-opens_at", "-id")


def meeting_get(*, scope: UserScope, pk: int, with_requests: bool = False) -> Meeting:
    """One meeting; ``with_requests`` also fetches the requests it dealt with that the user may
    see (``meeting.visible_request_links``, one query)."""
    meeting = (
        Meeting.objects.filter(scope.village_q("village"), pk=pk)
        .select_related("village", "body", "grid")
        .prefetch_related(
            "agenda_items",
            Prefetch("motions", queryset=Motion.objects.select_related("rule_version")),
            "photos",
            *(_request_links_prefetch(scope) if with_requests else []),
        )
        .first()
    )
    if meeting is None:
        raise Http404
    return meeting


def attendance_sheet(*, meeting: Meeting, grid_id: int | None = None) -> list[dict]:
    """Households of the meeting's roster (or of one grid of it) with their living residents,
    who is ticked and which household each holds a proxy for; three queries whatever the size."""
    present = {
        a.resident_id: a.proxy_for_id
        for a in Attendance.objects.filter(meeting=meeting).only("resident_id", "proxy_for_id")
    }
    proxy_numbers = dict(
        Household.objects.filter(pk__in={v for v in present.values() if v}).values_list(
            "pk", "number"
        )
    )
    residents = meeting_roster_residents(meeting=meeting)
    if grid_id:
        residents = residents.filter(household__grid_id=grid_id)
    residents = residents.select_related("household__grid").order_by(
        "household__grid__code", "household__number", "id"
    )
    groups: dict[int, dict] = {}
    for resident in residents:
        group = groups.setdefault(
            resident.household_id, {"household": resident.household, "residents": []}
        )
        group["residents"].append(
            {
                "resident": resident,
                "present": resident.pk in present,
                "proxy_number": proxy_numbers.get(present.get(resident.pk), ""),
            }
        )
    return list(groups.values())


def meeting_grids(*, meeting: Meeting) -> QuerySet[Grid]:
    """Grids to page a large meeting's attendance sheet by."""
    if meeting.grid_id:
        return Grid.objects.filter(pk=meeting.grid_id)
    return Grid.objects.filter(village_id=meeting.village_id).order_by("code")


def household_ids_by_number(*, village_id: int, numbers: set[str]) -> dict[str, int]:
    return dict(
        Household.objects.filter(village_id=village_id, number__in=numbers).values_list(
            "number", "pk"
        )
    )


def motion_get(*, scope: UserScope, pk: int) -> Motion:
    motion = (
        Motion.objects.filter(scope.village_q("village"), pk=pk)
        .select_related("village", "meeting__body", "grid", "agenda_item")
        .first()
    )
    if motion is None:
        raise Http404
    return motion


def motion_voters_pending(*, motion: Motion) -> QuerySet:
    """Who may still vote: attendees (or attending members) without a vote, or households."""
    if motion.mode == Motion.Mode.HOUSEHOLD_BALLOT:
        voted = VoteReceipt.objects if motion.secret else Vote.objects
        done = voted.filter(motion=motion, household=OuterRef("pk"))
        return (
            motion_eligible_households(motion=motion)
            .exclude(Exists(done))
            .select_related("head", "grid")
            .order_by("grid__code", "number")
        )
    attendees = Resident.objects.filter(attendances__meeting_id=motion.meeting_id)
    if motion.electorate == Motion.Electorate.MEMBERS:
        on = meeting_date(motion.meeting)
        attendees = attendees.filter(
            pk__in=_active_members(motion.meeting.body_id, on).values("resident_id")
        )
    voted = VoteReceipt.objects if motion.secret else Vote.objects
    done = voted.filter(motion=motion, resident=OuterRef("pk"))
    return (
        attendees.exclude(Exists(done))
        .select_related("household")
        .order_by("household__number", "id")
    )


def open_votes(*, motion: Motion) -> QuerySet[Vote]:
    """Named votes of an open (记名) motion; a secret motion has none by construction."""
    return (
        Vote.objects.filter(motion=motion)
        .select_related("resident", "household")
        .order_by("cast_at", "id")
    )


def rule_versions(*, scope: UserScope, village_id: int | None = None) -> QuerySet[RuleVersion]:
    versions = RuleVersion.objects.filter(scope.village_q("rule__village")).select_related(
        "rule__village"
    )
    if village_id:
        versions = versions.filter(rule__village_id=village_id)
    return versions.annotate(article_count=Count("articles", distinct=True)).order_by(
        "rule__village__code", "-number"
    )


def rule_version_get(*, scope: UserScope, pk: int) -> RuleVersion:
    version = (
        RuleVersion.objects.filter(scope.village_q("rule__village"), pk=pk)
        .select_related("rule__village", "adopted_by__meeting", "reviewed_by", "filed_by")
        .prefetch_related("articles__comments", "reviews__reviewer")
        .first()
    )
    if version is None:
        raise Http404
    return version


def adoptable_motions(*, version: RuleVersion) -> QuerySet[Motion]:
    """Closed 村民会议 motions put to the vote for this version after its legality review
    approved it, not yet used (the service still checks the computed result)."""
    if version.reviewed_at is None:
        return Motion.objects.none()
    return (
        Motion.objects.filter(
            village_id=version.rule.village_id,
            rule_version=version,
            status=Motion.Status.CLOSED,
            opens_at__gt=version.reviewed_at,
            meeting__body__kind="villagers_assembly",
            meeting__status__in=[Meeting.Status.ANNOUNCED, Meeting.Status.HELD],
            adopted_rule_version__isnull=True,
        )
        .select_related("meeting")
        .order_by("-closes_at")
    )


def rule_version_motions(*, version: RuleVersion) -> QuerySet[Motion]:
    """The votes this version was put to, with their meetings (the version page lists them)."""
    return version.motions.select_related("meeting").order_by("-created_at", "-id")


def assembly_meetings_for_vote(*, version: RuleVersion) -> QuerySet[Meeting]:
    """Meetings of the village's 村民会议 not yet held or cancelled, to put a version to."""
    return Meeting.objects.filter(
        village_id=version.rule.village_id,
        body__kind="villagers_assembly",
        status__in=[Meeting.Status.DRAFT, Meeting.Status.ANNOUNCED],
    ).order_by("scheduled_at", "id")


def commitment_households(*, scope: UserScope, version: RuleVersion) -> QuerySet[Household]:
    """Households the user may record commitments for, each marked signed or not."""
    signed = Commitment.objects.filter(version=version, household=OuterRef("pk"))
    return (
        scope.households()
        .filter(village_id=version.rule.village_id)
        .select_related("head", "grid")
        .annotate(signed=Exists(signed))
        .order_by("grid__code", "number")
    )


def commitment_coverage(*, village_id: int, version: RuleVersion | None) -> dict:
    """Households signed / total per grid and for the village (two GROUP BY queries)."""
    grids = (
        Grid.objects.filter(village_id=village_id)
        .annotate(
            total=Count("households", distinct=True),
            signed=Count(
                "households__commitments",
                filter=Q(households__commitments__version=version),
                distinct=True,
            ),
        )
        .order_by("code")
    )
    rows = [{"grid": g, "total": g.total, "signed": g.signed if version else 0} for g in grids]
    total = sum(r["total"] for r in rows)
    signed = sum(r["signed"] for r in rows)
    return {"grids": rows, "total": total, "signed": signed}


def in_force_version(*, village_id: int) -> RuleVersion | None:
    return (
        RuleVersion.objects.filter(rule__village_id=village_id, status=RuleVersion.Status.IN_FORCE)
        .select_related("rule")
        .first()
    )


# --- public pages (anonymous; only published material, no personal data) ---------------


def public_village(*, code: str) -> Village:
    village = Village.objects.filter(code=code).select_related("township").first()
    if village is None:
        raise Http404
    return village


def public_board(*, village: Village, now: dt.datetime | None = None) -> dict:
    """What the village notice board shows. Fixed number of queries."""
    now = now or timezone.now()
    version = in_force_version(village_id=village.pk)
    upcoming = (
        Meeting.objects.filter(
            village=village, status=Meeting.Status.ANNOUNCED, scheduled_at__gte=now
        )
        .select_related("body", "grid")
        .prefetch_related("agenda_items")
        .order_by("scheduled_at")[:10]
    )
    held = list(
        Meeting.objects.filter(village=village, status=Meeting.Status.HELD)
        .select_related("body", "grid")
        .order_by("-held_at")[:5]
    )
    motions = list(
        Motion.objects.filter(village=village, status=Motion.Status.CLOSED)
        .exclude(meeting__status=Meeting.Status.CANCELLED)
        .select_related("meeting__body")
        .order_by("-closes_at")[:10]
    )
    representatives = (
        Representative.objects.filter(grid__village=village, ended_on__isnull=True)
        .select_related("grid", "resident")
        .order_by("grid__code", "card_number")
    )
    consultation = (
        RuleVersion.objects.filter(rule__village=village, status=RuleVersion.Status.CONSULTATION)
        .order_by("-number")
        .first()
    )
    return {
        "version": version,
        "articles": list(version.articles.all()) if version else [],
        "upcoming": upcoming,
        "held": held,
        "results": closed_motion_outcomes(motions=motions),
        "representatives": representatives,
        "consultation": consultation,
    }


def public_article(*, village: Village, number: int) -> Article:
    article = (
        Article.objects.filter(
            version__rule__village=village,
            version__status=RuleVersion.Status.IN_FORCE,
            number=number,
        )
        .select_related("version__rule")
        .first()
    )
    if article is None:
        raise Http404
    return article


def public_consultation(*, village: Village, pk: int) -> RuleVersion:
    version = (
        RuleVersion.objects.filter(
            rule__village=village, pk=pk, status=RuleVersion.Status.CONSULTATION
        )
        .prefetch_related("articles")
        .first()
    )
    if version is None:
        raise Http404
    return version
