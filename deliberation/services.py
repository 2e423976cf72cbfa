"""Every write of deliberation: bodies, meetings, attendance, motions, votes, village rules.

One transaction each, audited through ``grids.services.audit_record``. Secret ballots are
audited without the choice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids.access import scope_of
from grids.models import Grid, Household, Resident, Village
from grids.services import audit_record, model_create, photo_shrink, snapshot

from . import selectors
from .models import (
    LEGAL_KINDS,
    VILLAGE_STANDARD_KINDS,
    AgendaItem,
    Article,
    Attendance,
    BallotTally,
    Body,
    BodyKind,
    Choice,
    Comment,
    Commitment,
    Meeting,
    MeetingPhoto,
    Membership,
    Motion,
    RuleReview,
    RuleVersion,
    VillageRule,
    Vote,
    VoteReceipt,
)

NOTICE_DAYS_VILLAGERS_ASSEMBLY = 10
MAX_ARTICLES = 999


# --- permissions -------------------------------------------------------------------------


def _require_village_manager(actor, village_id: int) -> None:
    if actor is None or not scope_of(actor).can_manage_village(village_id):
        raise PermissionDenied(_("您无权管理该村的议事事项"))


def _require_township_staff(actor, village: Village) -> None:
    scope = scope_of(actor)
    if not (scope.is_superuser or (scope.is_township and scope.township_id == village.township_id)):
        raise PermissionDenied(_("只有乡镇工作人员可以进行合法性审查和备案"))


# --- bodies ------------------------------------------------------------------------------


@transaction.atomic
def village_bodies_ensure(*, village: Village, actor, chair: Resident | None = None) -> list[Body]:
    """Create 村民会议, 村民代表会议 and the 一约四会 for ``village`` if missing (idempotent).

    ``chair`` (the village Party secretary, when known) becomes 会长 of the 一约四会.
    """
    bodies = []
    for kind in VILLAGE_STANDARD_KINDS:
        body = Body.objects.filter(village=village, grid__isnull=True, kind=kind).first()
        if body is None:
            body = Body(village=village, kind=kind, name=f"{village.name}{BodyKind(kind).label}")
            model_create(actor=actor, instance=body, village_id=village.pk)
        bodies.append(body)
        legal = kind in (BodyKind.VILLAGERS_ASSEMBLY, BodyKind.REPRESENTATIVES_ASSEMBLY)
        if chair is not None and not legal:
            has_chair = body.memberships.filter(
                role=Membership.Role.CHAIR, left_on__isnull=True
            ).exists()
            if not has_chair:
                current = body.memberships.filter(resident=chair, left_on__isnull=True).first()
                if current is not None:
                    # An ordinary member who becomes 总网格长 takes the chair: that term ends
                    # today and the chair's begins, both in the change log.
                    _membership_close(
                        actor=actor,
                        membership=current,
                        left_on=max(timezone.localdate(), current.joined_on),
                    )
                _membership_create(
                    actor=actor, body=body, resident=chair, role=Membership.Role.CHAIR
                )
    return bodies


def _check_fractions(quorum: tuple[int, int], majority: tuple[int, int]) -> None:
    for (numerator, denominator), field in ((quorum, "quorum"), (majority, "majority")):
        if denominator < 1 or numerator < 1 or numerator > denominator:
            raise ValidationError(
                {f"{field}_numerator": _("比例须在0到1之间，分子不大于分母，且都为正整数")}
            )


@transaction.atomic
def body_create(
    *,
    actor,
    village: Village,
    kind: str,
    name: str,
    grid: Grid | None = None,
    quorum_numerator: int = 1,
    quorum_denominator: int = 2,
    quorum_strict: bool = True,
    majority_numerator: int = 1,
    majority_denominator: int = 2,
    majority_strict: bool = True,
    majority_base: str = "cast",
) -> Body:
    """A further council (民情恳谈会, 协商议事团 of a grid …) with its own quorum and majority."""
    _require_village_manager(actor, village.pk)
    if grid is not None and grid.village_id != village.pk:
        raise ValidationError({"grid": _("网格不属于该村")})
    if kind == BodyKind.GRID_CONSULTATION and grid is None:
        raise ValidationError({"grid": _("协商议事团须设在网格")})
    if kind in (BodyKind.VILLAGERS_ASSEMBLY, BodyKind.REPRESENTATIVES_ASSEMBLY) and grid:
        raise ValidationError({"grid": _("村民会议和村民代表会议只能设在村一级")})
    if (
        kind in VILLAGE_STANDARD_KINDS
        and grid is None
        and Body.objects.filter(village=village, kind=kind, grid__isnull=True).exists()
    ):
        raise ValidationError({"kind": _("本村已有%(kind)s") % {"kind": BodyKind(kind).label}})
    _check_fractions(
        (quorum_numerator, quorum_denominator), (majority_numerator, majority_denominator)
    )
    body = Body(
        village=village,
        grid=grid,
        kind=kind,
        name=name.strip(),
        quorum_numerator=quorum_numerator,
        quorum_denominator=quorum_denominator,
        quorum_strict=quorum_strict,
        majority_numerator=majority_numerator,
        majority_denominator=majority_denominator,
        majority_strict=majority_strict,
        majority_base=majority_base,
    )
    return model_create(actor=actor, instance=body, village_id=village.pk)


@transaction.atomic
def body_rules_update(
    *,
    actor,
    body: Body,
    quorum_numerator: int,
    quorum_denominator: int,
    quorum_strict: bool,
    majority_numerator: int,
    majority_denominator: int,
    majority_strict: bool,
    majority_base: str,
) -> Body:
    """Change a council's quorum and majority. The two assemblies follow the law, not settings.
    Closed motions keep the rules frozen on them, so past results do not move."""
    _require_village_manager(actor, body.village_id)
    body = Body.objects.select_for_update().get(pk=body.pk)
    if body.kind in (BodyKind.VILLAGERS_ASSEMBLY, BodyKind.REPRESENTATIVES_ASSEMBLY):
        raise ValidationError(_("村民会议和村民代表会议的法定人数和表决规则由法律规定，不能修改"))
    _check_fractions(
        (quorum_numerator, quorum_denominator), (majority_numerator, majority_denominator)
    )
    before = snapshot(body)
    body.quorum_numerator, body.quorum_denominator = quorum_numerator, quorum_denominator
    body.majority_numerator, body.majority_denominator = majority_numerator, majority_denominator
    body.quorum_strict, body.majority_strict = quorum_strict, majority_strict
    body.majority_base = majority_base
    body.full_clean()
    body.save()
    audit_record(
        actor=actor,
        action="body_rules_update",
        instance=body,
        before=before,
        after=snapshot(body),
        village_id=body.village_id,
    )
    return body


@transaction.atomic
def membership_add(
    *,
    actor,
    body: Body,
    resident: Resident,
    role: str = Membership.Role.MEMBER,
    joined_on: dt.date | None = None,
) -> Membership:
    _require_village_manager(actor, body.village_id)
    return _membership_create(
        actor=actor, body=body, resident=resident, role=role, joined_on=joined_on
    )


def _membership_create(*, actor, body, resident, role, joined_on=None) -> Membership:
    if resident.household.village_id != body.village_id:
        raise ValidationError(_("该村民不属于本村，不能加入本村议事机构"))
    if body.is_villagers_assembly:
        raise ValidationError(_("村民会议由全体年满十八周岁的村民组成，无需登记成员"))
    if Membership.objects.filter(body=body, resident=resident, left_on__isnull=True).exists():
        raise ValidationError(_("%(name)s已是该机构成员") % {"name": resident.name})
    if (
        role == Membership.Role.CHAIR
        and Membership.objects.filter(body=body, role=role, left_on__isnull=True).exists()
    ):
        raise ValidationError(_("该机构已有会长，请先办理原会长退出"))
    membership = Membership(
        body=body, resident=resident, role=role, joined_on=joined_on or timezone.localdate()
    )
    return model_create(actor=actor, instance=membership, village_id=body.village_id)


@transaction.atomic
def membership_end(*, actor, membership: Membership, left_on: dt.date | None = None) -> Membership:
    """A member leaves the body (e.g. the chair is replaced: end the old chair, add the new)."""
    _require_village_manager(actor, membership.body.village_id)
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("body", "resident")
        .get(pk=membership.pk)
    )
    if membership.left_on is not None:
        raise ValidationError(
            _("%(name)s已于%(d)s退出") % {"name": membership.resident.name, "d": membership.left_on}
        )
    left_on = left_on or timezone.localdate()
    if left_on > timezone.localdate():
        raise ValidationError({"left_on": _("退出日期不能晚于今天")})
    if left_on < membership.joined_on:
        raise ValidationError(
            {"left_on": _("退出日期不能早于加入日期（%(d)s）") % {"d": membership.joined_on}}
        )
    return _membership_close(actor=actor, membership=membership, left_on=left_on)


def _membership_close(*, actor, membership: Membership, left_on: dt.date) -> Membership:
    before = snapshot(membership)
    membership.left_on = left_on
    membership.full_clean()
    membership.save(update_fields=["left_on"])
    audit_record(
        actor=actor,
        action="membership_end",
        instance=membership,
        before=before,
        after=snapshot(membership),
        village_id=membership.body.village_id,
    )
    return membership


# --- meetings ----------------------------------------------------------------------------


@transaction.atomic
def meeting_create(
    *,
    actor,
    village: Village,
    kind: str,
    title: str,
    venue: str,
    scheduled_at: dt.datetime,
    venue_name: str = "",
    body: Body | None = None,
    grid: Grid | None = None,
    urgent: bool = False,
    notice_text: str = "",
    agenda: Iterable[str] = (),
) -> Meeting:
    """Plan a meeting with its agenda; the notice is published separately (``meeting_announce``)."""
    _require_village_manager(actor, village.pk)
    if body is not None and body.village_id != village.pk:
        raise ValidationError(_("议事机构不属于该村"))
    if grid is None and body is not None and body.grid_id:
        grid = body.grid
    if grid is not None and grid.village_id != village.pk:
        raise ValidationError(_("网格不属于该村"))
    if grid is not None and body is not None and body.kind in LEGAL_KINDS:
        # Their quorum is counted over the whole village (art. 22, 26), never one grid.
        raise ValidationError(
            {
                "grid": _("%(body)s面向全村召开，不能限定在一个网格")
                % {"body": body.get_kind_display()}
            }
        )
    if venue == Meeting.Venue.WUCHANG and not venue_name.strip():
        raise ValidationError({"venue_name": _("请填写屋场名称")})
    meeting = Meeting(
        village=village,
        body=body,
        grid=grid,
        kind=kind,
        title=title.strip(),
        venue=venue,
        venue_name=venue_name.strip(),
        scheduled_at=scheduled_at,
        urgent=urgent,
        notice_text=notice_text.strip(),
        created_by=actor,
    )
    model_create(actor=actor, instance=meeting, village_id=village.pk)
    for position, item in enumerate((a.strip() for a in agenda if a.strip()), start=1):
        AgendaItem.objects.create(meeting=meeting, position=position, title=item)
    return meeting


@transaction.atomic
def agenda_item_add(*, actor, meeting: Meeting, title: str, description: str = "") -> AgendaItem:
    _require_village_manager(actor, meeting.village_id)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status in (Meeting.Status.HELD, Meeting.Status.CANCELLED):
        raise ValidationError(_("会议已结束或已取消，不能再增加议题"))
    if not title.strip():
        raise ValidationError({"title": _("请填写议题")})
    position = (
        meeting.agenda_items.order_by("-position").values_list("position", flat=True).first() or 0
    ) + 1
    item = AgendaItem(
        meeting=meeting, position=position, title=title.strip(), description=description.strip()
    )
    return model_create(actor=actor, instance=item, village_id=meeting.village_id)


@transaction.atomic
def meeting_announce(
    *, actor, meeting: Meeting, notice_text: str | None = None, now: dt.datetime | None = None
) -> Meeting:
    """Publish the notice. A 村民会议 needs it at least 10 days ahead (art. 21) unless urgent."""
    _require_village_manager(actor, meeting.village_id)
    meeting = (
        Meeting.objects.select_for_update(of=("self",)).select_related("body").get(pk=meeting.pk)
    )
    if meeting.status != Meeting.Status.DRAFT:
        raise ValidationError(_("只有筹备中的会议可以发布通知"))
    now = now or timezone.now()
    if meeting.scheduled_at <= now:
        raise ValidationError(_("会议时间已过，不能再发布通知"))
    needs_ten_days = (
        meeting.body is not None and meeting.body.is_villagers_assembly and not meeting.urgent
    )
    if needs_ten_days and meeting.scheduled_at - now < dt.timedelta(
        days=NOTICE_DAYS_VILLAGERS_ASSEMBLY
    ):
        raise ValidationError(
            _(
                "召开村民会议应当提前十天通知村民（《村民委员会组织法》第二十一条）。"
                "会议定于%(when)s，现在发布通知不足十天；请推迟会议或注明紧急情况。"
            )
            % {"when": timezone.localtime(meeting.scheduled_at).strftime("%Y-%m-%d %H:%M")}
        )
    before = snapshot(meeting)
    if notice_text is not None:
        meeting.notice_text = notice_text.strip()
    if not meeting.notice_text:
        raise ValidationError({"notice_text": _("请填写会议通知内容")})
    meeting.status = Meeting.Status.ANNOUNCED
    meeting.notice_published_at = now
    meeting.save(update_fields=["status", "notice_published_at", "notice_text"])
    audit_record(
        actor=actor,
        action="meeting_announce",
        instance=meeting,
        before=before,
        after=snapshot(meeting),
        village_id=meeting.village_id,
    )
    return meeting


def _lock_open_meeting(meeting: Meeting) -> Meeting:
    meeting = (
        Meeting.objects.select_for_update(of=("self",)).select_related("body").get(pk=meeting.pk)
    )
    if meeting.status != Meeting.Status.ANNOUNCED:
        raise ValidationError(_("只有已发布通知、尚未结束的会议可以登记到会"))
    return meeting


@transaction.atomic
def attendance_set(
    *,
    actor,
    meeting: Meeting,
    resident_ids: Iterable[int],
    proxies: dict[int, int] | None = None,
    shown_ids: Iterable[int] | None = None,
) -> dict[str, int]:
    """Make the meeting's attendance match the ticked residents (the phone page's checkboxes).

    ``shown_ids`` limits the change to the residents the page showed (one grid of a large
    村民会议); others keep their attendance. ``proxies`` maps an attending resident id to the
    other household id they represent by written proxy. A resident who has already voted at
    this meeting cannot be unticked.
    """
    _require_village_manager(actor, meeting.village_id)
    meeting = _lock_open_meeting(meeting)
    wanted = {int(pk) for pk in resident_ids}
    proxies = {int(k): int(v) for k, v in (proxies or {}).items() if int(k) in wanted and v}
    existing = {a.resident_id: a for a in meeting.attendances.all()}
    shown = set(existing) | wanted if shown_ids is None else {int(pk) for pk in shown_ids}
    if not wanted <= shown:
        raise ValidationError(_("所选村民不在本页名单中"))
    eligible = dict(
        selectors.meeting_roster_residents(meeting=meeting)
        .filter(pk__in=wanted)
        .values_list("pk", "household_id")
    )
    if wanted - set(eligible):
        raise ValidationError(_("所选村民不在本次会议的范围内"))
    proxy_households = set(proxies.values())
    valid_households = set(
        selectors.meeting_roster_households(meeting=meeting)
        .filter(pk__in=proxy_households)
        .values_list("pk", flat=True)
    )
    if proxy_households - valid_households:
        raise ValidationError(_("受托代表的户不在本次会议的范围内"))
    for resident_id, household_id in proxies.items():
        if eligible[resident_id] == household_id:
            raise ValidationError(_("受托代表的户不能是本人所在的户"))
    held_elsewhere = {
        a.proxy_for_id for rid, a in existing.items() if rid not in shown and a.proxy_for_id
    }
    if len(proxy_households) != len(proxies) or proxy_households & held_elsewhere:
        raise ValidationError(_("同一户只能委托一人代表"))

    removed = {rid for rid in existing if rid in shown} - wanted
    voted = selectors.meeting_voted_resident_ids(meeting=meeting) & removed
    if voted:
        names = ", ".join(Resident.objects.filter(pk__in=voted).values_list("name", flat=True))
        raise ValidationError(_("%(names)s已经投票，不能取消其到会登记") % {"names": names})
    Attendance.objects.filter(meeting=meeting, resident_id__in=removed).delete()
    changed_proxy = [
        a for rid, a in existing.items() if rid in wanted and a.proxy_for_id != proxies.get(rid)
    ]
    # Clear first so that moving a proxy between two attendees never trips the unique constraint.
    Attendance.objects.filter(pk__in=[a.pk for a in changed_proxy]).update(proxy_for=None)
    for attendance in changed_proxy:
        attendance.proxy_for_id = proxies.get(attendance.resident_id)
        attendance.save(update_fields=["proxy_for"])
    added = wanted - set(existing)
    Attendance.objects.bulk_create(
        Attendance(
            meeting=meeting,
            resident_id=rid,
            household_id=eligible[rid],
            proxy_for_id=proxies.get(rid),
            recorded_by=actor,
        )
        for rid in sorted(added)
    )
    present = len(existing) - len(removed) + len(added)
    result = {"added": len(added), "removed": len(removed), "present": present}
    audit_record(
        actor=actor,
        action="attendance_set",
        instance=meeting,
        after=result | {"proxies": len(proxies)},
        village_id=meeting.village_id,
    )
    return result


@transaction.atomic
def meeting_conclude(
    *, actor, meeting: Meeting, minutes: str = "", resolutions: str = "", now=None
) -> Meeting:
    """Mark the meeting held, keep minutes and resolutions, freeze the electorate sizes and
    close its open motions."""
    _require_village_manager(actor, meeting.village_id)
    meeting = _lock_open_meeting(meeting)
    before = snapshot(meeting)
    now = now or timezone.now()
    counts = selectors.meeting_electorate_counts(meeting=meeting)
    meeting.eligible_adults = counts["adults"]
    meeting.eligible_households = counts["households"]
    meeting.eligible_members = counts["members"]
    meeting.minutes = minutes.strip()
    meeting.resolutions = resolutions.strip()
    meeting.status = Meeting.Status.HELD
    meeting.held_at = now
    meeting.save()
    for motion in meeting.motions.filter(status=Motion.Status.OPEN):
        motion_close(actor=actor, motion=motion, now=now)
    audit_record(
        actor=actor,
        action="meeting_conclude",
        instance=meeting,
        before=before,
        after=snapshot(meeting),
        village_id=meeting.village_id,
    )
    return meeting


@transaction.atomic
def meeting_photo_add(*, actor, meeting: Meeting, photo, caption: str = "") -> MeetingPhoto:
    """A phone photo of the meeting (shrunk to a 1280 px JPEG), for the record."""
    _require_village_manager(actor, meeting.village_id)
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("会议已取消，不能上传照片"))
    item = MeetingPhoto(
        meeting=meeting,
        image=photo_shrink(photo, name_prefix=f"meeting-{meeting.pk}"),
        caption=caption.strip()[:100],
        uploaded_by=actor,
    )
    item.save()
    audit_record(
        actor=actor,
        action="meeting_photo_add",
        instance=item,
        after={"meeting": meeting.pk, "caption": item.caption},
        village_id=meeting.village_id,
    )
    return item


@transaction.atomic
def meeting_cancel(*, actor, meeting: Meeting, reason: str) -> Meeting:
    _require_village_manager(actor, meeting.village_id)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status in (Meeting.Status.HELD, Meeting.Status.CANCELLED):
        raise ValidationError(_("会议已召开或已取消"))
    if not reason.strip():
        raise ValidationError({"reason": _("请说明取消原因")})
    if (
        Vote.objects.filter(motion__meeting=meeting).exists()
        or VoteReceipt.objects.filter(motion__meeting=meeting).exists()
    ):
        raise ValidationError(_("会议已有投票，不能取消"))
    before = snapshot(meeting)
    meeting.status = Meeting.Status.CANCELLED
    meeting.minutes = _("会议取消：%(reason)s") % {"reason": reason.strip()}
    meeting.save(update_fields=["status", "minutes"])
    meeting.motions.update(status=Motion.Status.CLOSED)
    audit_record(
        actor=actor,
        action="meeting_cancel",
        instance=meeting,
        before=before,
        after=snapshot(meeting),
        village_id=meeting.village_id,
    )
    return meeting


# --- motions and votes -------------------------------------------------------------------


@transaction.atomic
def motion_create(
    *,
    actor,
    village: Village,
    title: str,
    text: str = "",
    meeting: Meeting | None = None,
    electorate: str | None = None,
    secret: bool = False,
    agenda_item: AgendaItem | None = None,
    grid: Grid | None = None,
    opens_at: dt.datetime | None = None,
    closes_at: dt.datetime | None = None,
    rule_version: RuleVersion | None = None,
) -> Motion:
    """A motion voted at ``meeting`` (electorate attendees or members) or, without a meeting,
    a household ballot (one household, one vote) between ``opens_at`` and ``closes_at``.

    ``rule_version``: the motion puts this approved version of the village rules to the
    村民会议; only such a motion can later adopt it (``rule_version_adopt``)."""
    _require_village_manager(actor, village.pk)
    if rule_version is not None:
        rule_version = _lock_version(rule_version)
        _check_rule_vote(rule_version, village, meeting)
    if meeting is not None:
        if meeting.village_id != village.pk:
            raise ValidationError(_("会议不属于该村"))
        if meeting.status in (Meeting.Status.HELD, Meeting.Status.CANCELLED):
            raise ValidationError(_("会议已结束或已取消，不能再提交表决事项"))
        body = meeting.body
        if body is not None and body.is_villagers_assembly:
            electorate = Motion.Electorate.ATTENDEES
        elif body is not None and body.is_representatives_assembly:
            electorate = Motion.Electorate.MEMBERS
        electorate = electorate or Motion.Electorate.ATTENDEES
        if electorate == Motion.Electorate.MEMBERS and body is None:
            raise ValidationError({"electorate": _("该会议没有议事机构，只能由到会人员表决")})
        if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
            raise ValidationError(_("议题不属于该会议"))
        mode = Motion.Mode.MEETING
    else:
        if grid is not None and grid.village_id != village.pk:
            raise ValidationError(_("网格不属于该村"))
        if opens_at is None or closes_at is None:
            raise ValidationError(_("按户表决须填写开始和截止时间"))
        if closes_at <= opens_at:
            raise ValidationError({"closes_at": _("截止时间须晚于开始时间")})
        mode, electorate = Motion.Mode.HOUSEHOLD_BALLOT, Motion.Electorate.HOUSEHOLDS
    motion = Motion(
        village=village,
        meeting=meeting,
        agenda_item=agenda_item,
        grid=grid,
        title=title.strip(),
        text=text.strip(),
        mode=mode,
        electorate=electorate,
        secret=secret,
        opens_at=opens_at,
        closes_at=closes_at,
        rule_version=rule_version,
        created_by=actor,
    )
    model_create(actor=actor, instance=motion, village_id=village.pk)
    if secret:
        BallotTally.objects.bulk_create(BallotTally(motion=motion, choice=c) for c in Choice.values)
    return motion


@transaction.atomic
def motion_open(*, actor, motion: Motion, now: dt.datetime | None = None) -> Motion:
    _require_village_manager(actor, motion.village_id)
    motion = (
        Motion.objects.select_for_update(of=("self",))
        .select_related("meeting", "rule_version")
        .get(pk=motion.pk)
    )
    if motion.status != Motion.Status.DRAFT:
        raise ValidationError(_("只有待表决的事项可以开始表决"))
    if motion.meeting is not None and motion.meeting.status != Meeting.Status.ANNOUNCED:
        raise ValidationError(_("会议须已发布通知且尚未结束，才能开始表决"))
    version = motion.rule_version
    if version is not None and version.status != RuleVersion.Status.APPROVED:
        raise ValidationError(
            _("%(version)s当前状态为“%(status)s”，不再需要表决")
            % {"version": version, "status": version.get_status_display()}
        )
    before = snapshot(motion)
    motion.status = Motion.Status.OPEN
    if motion.opens_at is None:
        motion.opens_at = now or timezone.now()
    motion.save(update_fields=["status", "opens_at"])
    audit_record(
        actor=actor,
        action="motion_open",
        instance=motion,
        before=before,
        after=snapshot(motion),
        village_id=motion.village_id,
    )
    return motion


@transaction.atomic
def motion_close(*, actor, motion: Motion, now: dt.datetime | None = None) -> Motion:
    """End voting; a household ballot freezes its number of eligible households."""
    _require_village_manager(actor, motion.village_id)
    return _motion_close_unchecked(actor=actor, motion=motion, now=now)


def _motion_close_unchecked(*, actor, motion: Motion, now: dt.datetime | None) -> Motion:
    motion = (
        Motion.objects.select_for_update(of=("self",))
        .select_related("meeting__body")
        .get(pk=motion.pk)
    )
    if motion.status != Motion.Status.OPEN:
        raise ValidationError(_("该事项不在表决中"))
    before = snapshot(motion)
    now = now or timezone.now()
    motion.status = Motion.Status.CLOSED
    if motion.meeting is not None and motion.meeting.body is not None:
        motion.body_rules = motion.meeting.body.rules_snapshot()
    electorate = selectors.motion_electorate(motion=motion)
    motion.eligible_households = electorate["households"]
    motion.eligible_adults = electorate["adults"]
    motion.eligible_members = electorate["members"]
    if motion.mode == Motion.Mode.HOUSEHOLD_BALLOT:
        if motion.closes_at is None or motion.closes_at > now:
            motion.closes_at = max(now, motion.opens_at + dt.timedelta(seconds=1))
    else:
        motion.closes_at = now
    motion.save(
        update_fields=[
            "status",
            "eligible_households",
            "eligible_adults",
            "eligible_members",
            "closes_at",
            "body_rules",
        ]
    )
    audit_record(
        actor=actor,
        action="motion_close",
        instance=motion,
        before=before,
        after=snapshot(motion),
        village_id=motion.village_id,
    )
    return motion


def _check_voter(motion: Motion, resident: Resident | None, household: Household | None) -> None:
    if motion.mode == Motion.Mode.HOUSEHOLD_BALLOT:
        if household is None or resident is not None:
            raise ValidationError(_("按户表决以户为单位投票"))
        if not selectors.motion_eligible_households(motion=motion).filter(pk=household.pk).exists():
            in_area = household.village_id == motion.village_id and (
                motion.grid_id is None or household.grid_id == motion.grid_id
            )
            if in_area:
                raise ValidationError(
                    _("%(number)s户已无在村或外出的成员（均已迁出或死亡），不参加按户表决")
                    % {"number": household.number}
                )
            raise ValidationError(_("该户不在本次表决范围内"))
        return
    if resident is None or household is not None:
        raise ValidationError(_("会议表决以到会人员为单位投票"))
    if not Attendance.objects.filter(meeting_id=motion.meeting_id, resident=resident).exists():
        raise ValidationError(_("%(name)s未登记到会，不能投票") % {"name": resident.name})
    if motion.electorate == Motion.Electorate.MEMBERS:
        is_member = Membership.objects.filter(
            body_id=motion.meeting.body_id, resident=resident, left_on__isnull=True
        ).exists()
        if not is_member:
            raise ValidationError(
                _("%(name)s不是该机构成员，只能列席，不能表决") % {"name": resident.name}
            )


def vote_cast(
    *,
    actor,
    motion: Motion,
    choice: str,
    resident: Resident | None = None,
    household: Household | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Record one vote. The database refuses a second vote by the same voter, even when two
    submissions race; a secret ballot keeps only a receipt and the running tally."""
    try:
        with transaction.atomic():
            _vote_cast(
                actor=actor,
                motion=motion,
                choice=choice,
                resident=resident,
                household=household,
                now=now or timezone.now(),
            )
    except IntegrityError as exc:
        raise ValidationError(_("该表决人已经投过票，每人（户）只能投一次")) from exc


def _vote_cast(*, actor, motion, choice, resident, household, now) -> None:
    _require_village_manager(actor, motion.village_id)
    if choice not in Choice.values:
        raise ValidationError({"choice": _("请选择赞成、反对或弃权")})
    # A shared lock would do, but FOR UPDATE also serialises against motion_close.
    motion = (
        Motion.objects.select_related("meeting").select_for_update(of=("self",)).get(pk=motion.pk)
    )
    if motion.status != Motion.Status.OPEN:
        raise ValidationError(_("该事项不在表决中"))
    if motion.opens_at is not None and now < motion.opens_at:
        raise ValidationError(
            _("表决尚未开始，%(when)s起才能投票") % {"when": _local(motion.opens_at)}
        )
    if motion.closes_at is not None and now >= motion.closes_at:
        raise ValidationError(_("表决已截止"))
    _check_voter(motion, resident, household)
    voter = {"resident": resident} if resident is not None else {"household": household}
    if motion.secret:
        receipt = VoteReceipt.objects.create(motion=motion, **voter)
        updated = BallotTally.objects.filter(motion=motion, choice=choice).update(
            count=F("count") + 1
        )
        if updated != 1:
            raise ValidationError(_("计票记录缺失，请联系管理员"))
        # The audit trail of a secret ballot names the voter but never the choice.
        audit_record(
            actor=actor,
            action="secret_vote_cast",
            instance=receipt,
            after={"motion": motion.pk},
            village_id=motion.village_id,
        )
    else:
        vote = Vote.objects.create(motion=motion, choice=choice, recorded_by=actor, **voter)
        audit_record(
            actor=actor,
            action="vote_cast",
            instance=vote,
            after=snapshot(vote),
            village_id=motion.village_id,
        )


def _check_rule_vote(version: RuleVersion, village: Village, meeting: Meeting | None) -> None:
    if version.rule.village_id != village.pk:
        raise ValidationError(_("该版本村规民约不属于本村"))
    _require_step(version, "put_to_vote")
    body = meeting.body if meeting is not None else None
    if body is not None and body.is_representatives_assembly:
        raise ValidationError(ART_27_REFUSAL)
    if body is None or not body.is_villagers_assembly:
        raise ValidationError(
            {"meeting": _("村规民约须提交村民会议表决，请选择本村村民会议的会议")}
        )


# --- village rules -----------------------------------------------------------------------

ART_27_REFUSAL = gettext_lazy(
    "村民代表会议无权制定或修改村规民约，须由村民会议表决通过（《村民委员会组织法》第二十七条）"
)

_S = RuleVersion.Status
# Every step of a version's life: the one status it may be taken from, what it is called in
# a refusal, and the status it leads to. Each service checks its step here; the tests walk
# the table to try every step from every other status.
RULE_VERSION_STEPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "article_save": (_S.DRAFTING, gettext_lazy("修改条款"), ()),
    "open_consultation": (_S.DRAFTING, gettext_lazy("公开征求意见"), (_S.CONSULTATION,)),
    "submit_review": (_S.CONSULTATION, gettext_lazy("提交合法性审查"), (_S.REVIEW,)),
    "review": (_S.REVIEW, gettext_lazy("进行合法性审查"), (_S.APPROVED, _S.DRAFTING)),
    "put_to_vote": (_S.APPROVED, gettext_lazy("提交村民会议表决"), ()),
    "adopt": (_S.APPROVED, gettext_lazy("登记村民会议通过"), (_S.ADOPTED,)),
    "file": (_S.ADOPTED, gettext_lazy("备案"), (_S.FILED,)),
    "bring_into_force": (_S.FILED, gettext_lazy("施行"), (_S.IN_FORCE,)),
}


def _require_step(version: RuleVersion, step: str) -> None:
    required, label, _leads_to = RULE_VERSION_STEPS[step]
    if version.status != required:
        raise ValidationError(
            _("当前状态为“%(status)s”，不能%(action)s；只有“%(allowed)s”状态的版本可以%(action)s")
            % {
                "status": version.get_status_display(),
                "action": label,
                "allowed": RuleVersion.Status(required).label,
            }
        )


def _lock_version(version: RuleVersion) -> RuleVersion:
    return (
        RuleVersion.objects.select_for_update(of=("self",))
        .select_related("rule__village__township")
        .get(pk=version.pk)
    )


def _transition(actor, version: RuleVersion, action: str, before: dict, fields: list[str]) -> None:
    version.full_clean(validate_constraints=False)
    version.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=action,
        instance=version,
        before=before,
        after=snapshot(version),
        village_id=version.rule.village_id,
    )


@transaction.atomic
def rule_version_create(
    *, actor, village: Village, title: str, articles: Iterable[tuple[str, str]], preamble: str = ""
) -> RuleVersion:
    """Start a new draft version with numbered articles (1, 2, 3 … in the given order)."""
    _require_village_manager(actor, village.pk)
    rule, _created = VillageRule.objects.get_or_create(village=village)
    rule = VillageRule.objects.select_for_update().get(pk=rule.pk)
    articles = [(t.strip(), x.strip()) for t, x in articles if x.strip()]
    if not articles:
        raise ValidationError(_("村规民约至少要有一条条款"))
    number = (rule.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = RuleVersion(
        rule=rule, number=number, title=title.strip(), preamble=preamble.strip(), created_by=actor
    )
    model_create(actor=actor, instance=version, village_id=village.pk)
    Article.objects.bulk_create(
        Article(version=version, number=n, title=t, text=x)
        for n, (t, x) in enumerate(articles, start=1)
    )
    return version


@transaction.atomic
def article_save(
    *, actor, version: RuleVersion, number: int, text: str, title: str = ""
) -> Article:
    """Add or rewrite article ``number`` of a version that is still being drafted."""
    version = _lock_version(version)
    _require_village_manager(actor, version.rule.village_id)
    _require_step(version, "article_save")
    if not 1 <= number <= MAX_ARTICLES:
        raise ValidationError({"number": _("条号须在1到%(n)d之间") % {"n": MAX_ARTICLES}})
    if not text.strip():
        raise ValidationError({"text": _("请填写条文")})
    article = Article.objects.filter(version=version, number=number).first()
    before = snapshot(article) if article else {}
    if article is None:
        article = Article(version=version, number=number)
    article.title, article.text = title.strip(), text.strip()
    article.full_clean()
    article.save()
    audit_record(
        actor=actor,
        action="article_save",
        instance=article,
        before=before,
        after=snapshot(article),
        village_id=version.rule.village_id,
    )
    return article


@transaction.atomic
def rule_version_open_consultation(*, actor, version: RuleVersion, until: dt.date) -> RuleVersion:
    version = _lock_version(version)
    _require_village_manager(actor, version.rule.village_id)
    _require_step(version, "open_consultation")
    if until < timezone.localdate():
        raise ValidationError({"until": _("征求意见截止日期不能早于今天")})
    before = snapshot(version)
    version.status, version.consultation_until = RuleVersion.Status.CONSULTATION, until
    _transition(actor, version, "rule_consultation_open", before, ["status", "consultation_until"])
    return version


@transaction.atomic
def comment_add(
    *,
    actor,
    article: Article,
    author_name: str,
    text: str,
    household: Household | None = None,
) -> Comment:
    """A resident's comment on an article during consultation: from the public page
    (``actor`` None) or passed on by their representative."""
    version = _lock_version(article.version)
    if version.status != RuleVersion.Status.CONSULTATION:
        raise ValidationError(_("该版本不在征求意见期，不能提交意见"))
    if version.consultation_until and timezone.localdate() > version.consultation_until:
        raise ValidationError(_("征求意见已于%(d)s截止") % {"d": version.consultation_until})
    if not author_name.strip():
        raise ValidationError({"author_name": _("请填写姓名")})
    if not text.strip():
        raise ValidationError({"text": _("请填写意见")})
    channel = Comment.Channel.PUBLIC
    if actor is not None and getattr(actor, "is_authenticated", False):
        scope = scope_of(actor)
        if household is not None and not scope.households().filter(pk=household.pk).exists():
            raise PermissionDenied(_("您无权代该户提交意见"))
        if scope.village_id != version.rule.village_id and not scope.can_manage_village(
            version.rule.village_id
        ):
            raise PermissionDenied(_("您无权代本村村民提交意见"))
        channel = Comment.Channel.REPRESENTATIVE
    comment = Comment(
        article=article,
        channel=channel,
        author_name=author_name.strip()[:50],
        household=household,
        text=text.strip()[:2000],
        recorded_by=actor if channel == Comment.Channel.REPRESENTATIVE else None,
    )
    comment.full_clean()
    comment.save()
    audit_record(
        actor=actor,
        action="rule_comment_add",
        instance=comment,
        after={"article": article.pk, "channel": channel},
        village_id=version.rule.village_id,
    )
    return comment


@transaction.atomic
def rule_version_submit_review(*, actor, version: RuleVersion) -> RuleVersion:
    version = _lock_version(version)
    _require_village_manager(actor, version.rule.village_id)
    _require_step(version, "submit_review")
    before = snapshot(version)
    version.status = RuleVersion.Status.REVIEW
    _transition(actor, version, "rule_review_submit", before, ["status"])
    return version


@transaction.atomic
def rule_version_review(*, actor, version: RuleVersion, approve: bool, opinion: str) -> RuleVersion:
    """Township legality review: approve, or return to drafting with a written opinion."""
    version = _lock_version(version)
    _require_township_staff(actor, version.rule.village)
    _require_step(version, "review")
    opinion = opinion.strip()
    if not approve and not opinion:
        raise ValidationError({"opinion": _("退回修改须写明审查意见")})
    before = snapshot(version)
    now = timezone.now()
    RuleReview.objects.create(
        version=version,
        decision=RuleReview.Decision.APPROVE if approve else RuleReview.Decision.RETURN,
        opinion=opinion or _("经审查，未发现违反法律法规和政策的内容。"),
        reviewer=actor,
    )
    version.status = RuleVersion.Status.APPROVED if approve else RuleVersion.Status.DRAFTING
    version.review_opinion = opinion or _("经审查，未发现违反法律法规和政策的内容。")
    version.reviewed_by, version.reviewed_at = actor, now
    _transition(
        actor,
        version,
        "rule_review_approve" if approve else "rule_review_return",
        before,
        ["status", "review_opinion", "reviewed_by", "reviewed_at"],
    )
    return version


@transaction.atomic
def rule_version_put_to_vote(
    *, actor, version: RuleVersion, meeting: Meeting, secret: bool = False
) -> Motion:
    """Put an approved version to a meeting of the 村民会议: the motion that alone can adopt it."""
    version = _lock_version(version)
    _require_village_manager(actor, version.rule.village_id)
    _require_step(version, "put_to_vote")
    return motion_create(
        actor=actor,
        village=version.rule.village,
        meeting=meeting,
        title=_("表决通过《%(title)s》（第%(n)d版）")
        % {"title": version.title, "n": version.number},
        text=_("审查通过的%(version)s，提请村民会议表决。") % {"version": version},
        secret=secret,
        rule_version=version,
    )


@transaction.atomic
def rule_version_adopt(*, actor, version: RuleVersion, motion: Motion) -> RuleVersion:
    """Record adoption by a valid 村民会议 vote on this very version (art. 27: only the 村民会议
    adopts or amends village rules; a 村民代表会议 may not). The motion must have been put to
    the vote for this version, opened after the legality review approved it, and passed."""
    version = _lock_version(version)
    _require_village_manager(actor, version.rule.village_id)
    _require_step(version, "adopt")
    motion = Motion.objects.select_related("meeting__body").get(pk=motion.pk)
    if motion.village_id != version.rule.village_id:
        raise ValidationError(_("该表决事项不属于本村"))
    body = motion.meeting.body if motion.meeting else None
    if body is not None and body.is_representatives_assembly:
        raise ValidationError(ART_27_REFUSAL)
    if body is None or not body.is_villagers_assembly:
        raise ValidationError(_("村规民约须由村民会议表决通过，该表决不是村民会议的表决"))
    if motion.rule_version_id != version.pk:
        raise ValidationError(
            _(
                "“%(motion)s”不是就本版本村规民约进行的表决，不能作为通过依据；"
                "请在本版本页面“提交村民会议表决”，在村民会议上表决后再登记"
            )
            % {"motion": motion.title}
        )
    approved_at = version.reviewed_at
    if motion.opens_at is None or approved_at is None or motion.opens_at <= approved_at:
        raise ValidationError(
            _("该表决开始于本版本合法性审查通过（%(approved)s）之前，不能作为通过依据")
            % {"approved": _local(approved_at)}
        )
    if motion.meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("该会议已取消，其表决不能作为通过依据"))
    if motion.status != Motion.Status.CLOSED:
        raise ValidationError(_("该表决尚未结束"))
    if RuleVersion.objects.filter(adopted_by=motion).exists():
        raise ValidationError(_("该表决已用于通过另一版本"))
    outcome = selectors.motion_outcome(motion=motion)
    if not outcome.valid or not outcome.passed:
        raise ValidationError(
            _("该表决结果为“%(label)s”，不能作为通过村规民约的依据：%(why)s")
            % {"label": outcome.label, "why": "；".join(outcome.reasons)}
        )
    before = snapshot(version)
    version.status = RuleVersion.Status.ADOPTED
    version.adopted_by, version.adopted_at = motion, timezone.now()
    _transition(actor, version, "rule_adopt", before, ["status", "adopted_by", "adopted_at"])
    return version


def _local(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


@transaction.atomic
def rule_version_file(*, actor, version: RuleVersion) -> RuleVersion:
    """备案 with the township."""
    version = _lock_version(version)
    _require_township_staff(actor, version.rule.village)
    _require_step(version, "file")
    before = snapshot(version)
    version.status = RuleVersion.Status.FILED
    version.filed_by, version.filed_at = actor, timezone.now()
    _transition(actor, version, "rule_file", before, ["status", "filed_by", "filed_at"])
    return version


@transaction.atomic
def rule_version_bring_into_force(
    *, actor, version: RuleVersion, in_force_from: dt.date | None = None
) -> RuleVersion:
    """Put a filed version in force; the version in force until now is superseded."""
    # Lock the rule first: two versions brought into force at once must queue here.
    VillageRule.objects.select_for_update().get(pk=version.rule_id)
    version = _lock_version(version)
    _require_village_manager(actor, version.rule.village_id)
    _require_step(version, "bring_into_force")
    now = timezone.now()
    for old in RuleVersion.objects.select_for_update().filter(
        rule_id=version.rule_id, status=RuleVersion.Status.IN_FORCE
    ):
        old_before = snapshot(old)
        old.status, old.superseded_at = RuleVersion.Status.SUPERSEDED, now
        _transition(actor, old, "rule_supersede", old_before, ["status", "superseded_at"])
    before = snapshot(version)
    version.status = RuleVersion.Status.IN_FORCE
    version.in_force_from = in_force_from or timezone.localdate()
    _transition(actor, version, "rule_in_force", before, ["status", "in_force_from"])
    return version


@transaction.atomic
def commitments_record(
    *, actor, version: RuleVersion, households: Iterable[Household], signed_on: dt.date
) -> int:
    """我承诺: record that these households signed the version in force. Households already
    recorded are left as they are; returns how many were added."""
    version = RuleVersion.objects.select_related("rule").get(pk=version.pk)
    if version.status != RuleVersion.Status.IN_FORCE:
        raise ValidationError(_("只能为施行中的村规民约登记承诺"))
    if signed_on > timezone.localdate():
        raise ValidationError({"signed_on": _("签署日期不能晚于今天")})
    ids = {h.pk for h in households}
    visible = set(
        scope_of(actor)
        .households()
        .filter(pk__in=ids, village_id=version.rule.village_id)
        .values_list("pk", flat=True)
    )
    if ids - visible:
        raise PermissionDenied(_("只能为自己联系的户登记承诺"))
    already = set(
        Commitment.objects.filter(version=version, household_id__in=ids).values_list(
            "household_id", flat=True
        )
    )
    new = sorted(ids - already)
    Commitment.objects.bulk_create(
        (
            Commitment(version=version, household_id=hid, signed_on=signed_on, recorded_by=actor)
            for hid in new
        ),
        ignore_conflicts=True,
    )
    audit_record(
        actor=actor,
        action="commitments_record",
        instance=version,
        after={"households": new, "signed_on": signed_on.isoformat()},
        village_id=version.rule.village_id,
    )
    return len(new)


def household_ballots_close_expired(*, now: dt.datetime | None = None) -> list[int]:
    """Close every open household ballot whose period has ended (idempotent: a closed ballot
    is skipped). Each ballot closes in its own transaction so one failure does not hold the
    others; the actor is the system (None)."""
    now = now or timezone.now()
    closed = []
    expired = Motion.objects.filter(
        mode=Motion.Mode.HOUSEHOLD_BALLOT, status=Motion.Status.OPEN, closes_at__lte=now
    ).values_list("pk", flat=True)
    for motion_id in list(expired):
        with transaction.atomic():
            motion = Motion.objects.select_for_update().get(pk=motion_id)
            if motion.status != Motion.Status.OPEN:
                continue
            _motion_close_unchecked(actor=None, motion=motion, now=now)
            closed.append(motion_id)
    return closed
