"""Hostile input through every deliberation form, posted by the role that uses it: a Chinese
error or a clean 4xx, never a 500; a redirect writes exactly what the action writes, or nothing.

The valid value of each field is mixed in (``maybe``) so that the services' own checks are
reached too; each example is rolled back, so every one starts from the same meeting, motion
and rule versions (see ``tests/security/stages.py``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import strategies as st

from deliberation import forms
from tests.security.form_coverage import covers
from tests.security.hostile import NASTY, Effect, hunt, jpeg_bytes, maybe

pytestmark = pytest.mark.django_db

AUDIT = "grids.AuditEntry"


@pytest.fixture
def o(world):
    return world.obj


def today(days: int = 0) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def rule_action(version, action: str) -> str:
    return reverse("deliberation:rule_version_action", args=[version.pk, action])


# --- meetings ------------------------------------------------------------------------------


@covers(forms.ConcludeForm)
def test_meeting_conclude(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:meeting_conclude", args=[o.meeting.pk]),
        {"minutes": "会议记录", "resolutions": "同意修路"},
        st.fixed_dictionaries({"minutes": maybe("会议记录"), "resolutions": NASTY}),
        effect=Effect(
            grows={AUDIT: 2},  # the meeting, and the open motion it closes
            changes=frozenset({"deliberation.Meeting", "deliberation.Motion"}),
        ),
        watch=["deliberation.Meeting"],
    )


@covers(forms.CancelForm)
def test_meeting_cancel(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:meeting_cancel", args=[o.meeting.pk]),
        {"reason": "下雨"},
        st.fixed_dictionaries({"reason": maybe("下雨")}),
        effect=Effect(
            grows={AUDIT: 1},
            changes=frozenset({"deliberation.Meeting", "deliberation.Motion"}),
        ),
        watch=["deliberation.Meeting"],
    )


PHOTOS = st.builds(
    SimpleUploadedFile,
    st.sampled_from(["会场.jpg", "a.png", "../../x.jpg", "x.svg", "无后缀"]),
    st.one_of(
        st.builds(jpeg_bytes),
        st.binary(max_size=300),
        st.sampled_from([b"<svg onload=alert(1)>", b"%PDF-1.4", b"\xff\xd8\xff\xe0garbage"]),
    ),
)


@covers(forms.PhotoForm)
def test_meeting_photo(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:meeting_photo_add", args=[o.meeting.pk]),
        {"photo": SimpleUploadedFile("会场.jpg", jpeg_bytes()), "caption": "会场"},
        st.fixed_dictionaries({"photo": st.one_of(PHOTOS, NASTY), "caption": NASTY}),
        effect=Effect(grows={"deliberation.MeetingPhoto": 1, AUDIT: 1}),
    )


@covers(forms.AgendaItemForm)
def test_agenda_item(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:meeting_detail", args=[o.meeting.pk]),
        {"agenda-title": "修路", "agenda-description": "村道"},
        st.fixed_dictionaries({"agenda-title": maybe("修路"), "agenda-description": NASTY}),
        effect=Effect(grows={"deliberation.AgendaItem": 1, AUDIT: 1}),
    )


@covers(forms.MotionForm)
def test_motion_create(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:motion_create", args=[o.meeting.pk]),
        {"title": "修路", "electorate": "attendees"},
        st.fixed_dictionaries(
            {
                "title": maybe("修路"),
                "text": NASTY,
                "electorate": maybe("attendees"),
                "secret": st.sampled_from(["", "on", "1", "false", "\x00"]),
            }
        ),
        effect=Effect(
            grows={"deliberation.Motion": 1, "deliberation.BallotTally": (0, 3), AUDIT: 1}
        ),
    )


@covers(forms.BallotForm)
def test_household_ballot_create(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:ballot_create"),
        {
            "village": o.village_x.pk,
            "grid": o.grid_a.pk,
            "title": "村道硬化方案",
            "opens_at": f"{today()}T08:00",
            "closes_at": f"{today(7)}T20:00",
        },
        st.fixed_dictionaries(
            {
                "village": maybe(o.village_x.pk),
                "grid": st.one_of(st.just(""), maybe(o.grid_a.pk), st.just(o.grid_y.pk)),
                "title": maybe("村道硬化方案"),
                "text": NASTY,
                "opens_at": maybe(f"{today()}T08:00"),
                "closes_at": maybe(f"{today(7)}T20:00"),
                "secret": st.sampled_from(["", "on"]),
            }
        ),
        effect=Effect(
            grows={"deliberation.Motion": 1, "deliberation.BallotTally": (0, 3), AUDIT: 1}
        ),
    )


# --- bodies --------------------------------------------------------------------------------

FRACTION = st.one_of(st.integers(min_value=-3, max_value=120).map(str), NASTY)


@covers(forms.BodyForm)
def test_body_create(o, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:body_create"),
        {
            "village": o.village_x.pk,
            "kind": "opinion_forum",
            "name": "民情恳谈会",
            "quorum_numerator": 1,
            "quorum_denominator": 2,
            "majority_numerator": 1,
            "majority_denominator": 2,
            "majority_base": "cast",
        },
        st.fixed_dictionaries(
            {
                "village": maybe(o.village_x.pk),
                "kind": st.one_of(
                    st.sampled_from(
                        [
                            "opinion_forum",
                            "grid_consultation",
                            "moral_council",
                            "villagers_assembly",
                        ]
                    ),
                    NASTY,
                ),
                "name": maybe("民情恳谈会"),
                "grid": st.one_of(st.just(""), maybe(o.grid_a.pk), st.just(o.grid_y.pk)),
                "quorum_numerator": st.one_of(st.just("1"), FRACTION),
                "quorum_denominator": st.one_of(st.just("2"), FRACTION),
                "majority_numerator": st.one_of(st.just("1"), FRACTION),
                "majority_denominator": st.one_of(st.just("2"), FRACTION),
                "majority_base": maybe("cast"),
            }
        ),
        effect=Effect(grows={"deliberation.Body": 1, AUDIT: 1}),
    )


@covers(forms.BodyRulesForm)
def test_body_rules(stages, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:body_detail", args=[stages.council.pk]),
        {
            "rules-quorum_numerator": 2,
            "rules-quorum_denominator": 3,
            "rules-majority_numerator": 1,
            "rules-majority_denominator": 2,
            "rules-majority_base": "present",
        },
        st.fixed_dictionaries(
            {
                "rules-quorum_numerator": st.one_of(st.just("2"), FRACTION),
                "rules-quorum_denominator": st.one_of(st.just("3"), FRACTION),
                "rules-quorum_strict": st.sampled_from(["", "on"]),
                "rules-majority_numerator": st.one_of(st.just("1"), FRACTION),
                "rules-majority_denominator": st.one_of(st.just("2"), FRACTION),
                "rules-majority_base": maybe("present"),
            }
        ),
        effect=Effect(grows={AUDIT: 1}, changes=frozenset({"deliberation.Body"})),
        watch=["deliberation.Body"],
    )


@covers(forms.MemberForm)
def test_member_add(o, stages, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:body_detail", args=[stages.council.pk]),
        {"resident": stages.newcomer.pk, "role": "member"},
        st.fixed_dictionaries(
            {
                "resident": st.one_of(
                    maybe(stages.newcomer.pk),
                    st.just(stages.member.resident_id),  # already a member
                    st.just(o.rep_y.resident_id),  # of village Y
                ),
                "role": st.one_of(st.sampled_from(["member", "vice_chair", "chair"]), NASTY),
            }
        ),
        effect=Effect(grows={"deliberation.Membership": 1, AUDIT: 1}),
        watch=["deliberation.Membership"],
    )


@covers(forms.MembershipEndForm)
def test_membership_end(stages, client_for):
    hunt(
        client_for("clerk_x"),
        reverse("deliberation:body_detail", args=[stages.council.pk]),
        {"end-membership": stages.member.pk, "end-left_on": today()},
        st.fixed_dictionaries(
            {
                "end-membership": maybe(stages.member.pk),
                "end-left_on": st.one_of(
                    st.sampled_from([today(), today(1), "2024-12-31", "2025-01-01"]), NASTY
                ),
            }
        ),
        effect=Effect(grows={AUDIT: 1}, changes=frozenset({"deliberation.Membership"})),
        watch=["deliberation.Membership"],
    )


# --- village rules -------------------------------------------------------------------------


@covers(forms.ArticleForm)
def test_article_save(stages, client_for):
    hunt(
        client_for("clerk_x"),
        rule_action(stages.draft, "article"),
        {"article-number": 3, "article-text": "邻里之间互谅互让。"},
        st.fixed_dictionaries(
            {
                "article-number": st.one_of(st.sampled_from(["1", "3", "999", "1000"]), NASTY),
                "article-title": NASTY,
                "article-text": maybe("邻里之间互谅互让。"),
            }
        ),
        effect=Effect(
            grows={"deliberation.Article": (0, 1), AUDIT: 1},
            changes=frozenset({"deliberation.Article"}),
        ),
        watch=["deliberation.Article"],
    )


@covers(forms.ConsultationForm)
def test_open_consultation(stages, client_for):
    hunt(
        client_for("clerk_x"),
        rule_action(stages.draft, "consultation"),
        {"consultation-until": today(14)},
        st.fixed_dictionaries(
            {
                "consultation-until": st.one_of(
                    st.sampled_from([today(), today(14), today(-1)]), NASTY
                )
            }
        ),
        effect=Effect(grows={AUDIT: 1}, changes=frozenset({"deliberation.RuleVersion"})),
        watch=["deliberation.RuleVersion"],
    )


@covers(forms.ReviewForm)
def test_legality_review(stages, client_for):
    hunt(
        client_for("township"),
        rule_action(stages.review, "review"),
        {"review-decision": "return", "review-opinion": "第三条与婚姻法不符"},
        st.fixed_dictionaries(
            {
                "review-decision": st.one_of(st.sampled_from(["approve", "return"]), NASTY),
                "review-opinion": st.one_of(st.just("第三条与婚姻法不符"), NASTY),
            }
        ),
        effect=Effect(
            grows={"deliberation.RuleReview": 1, AUDIT: 1},
            changes=frozenset({"deliberation.RuleVersion"}),
        ),
        watch=["deliberation.RuleVersion"],
    )


@covers(forms.PutToVoteForm)
def test_put_to_vote(o, stages, client_for):
    hunt(
        client_for("clerk_x"),
        rule_action(stages.approved, "vote"),
        {"vote-meeting": stages.assembly_meeting.pk},
        st.fixed_dictionaries(
            {
                "vote-meeting": st.one_of(
                    maybe(stages.assembly_meeting.pk),
                    st.just(o.meeting.pk),  # not the assembly
                ),
                "vote-secret": st.sampled_from(["", "on"]),
            }
        ),
        effect=Effect(
            grows={"deliberation.Motion": 1, "deliberation.BallotTally": (0, 3), AUDIT: 1}
        ),
    )


@covers(forms.AdoptForm)
def test_adopt(o, stages, client_for):
    hunt(
        client_for("clerk_x"),
        rule_action(stages.approved, "adopt"),
        {"adopt-motion": stages.adopting_motion.pk},
        st.fixed_dictionaries(
            {"adopt-motion": st.one_of(maybe(stages.adopting_motion.pk), st.just(o.motion.pk))}
        ),
        effect=Effect(grows={AUDIT: 1}, changes=frozenset({"deliberation.RuleVersion"})),
        watch=["deliberation.RuleVersion"],
    )


@covers(forms.InForceForm)
def test_bring_into_force(stages, client_for):
    hunt(
        client_for("clerk_x"),
        rule_action(stages.filed, "in_force"),
        {"in_force-in_force_from": today()},
        st.fixed_dictionaries(
            {"in_force-in_force_from": st.one_of(st.sampled_from([today(), today(30)]), NASTY)}
        ),
        # The version in force until now is superseded: two transitions, two records.
        effect=Effect(grows={AUDIT: 2}, changes=frozenset({"deliberation.RuleVersion"})),
        watch=["deliberation.RuleVersion"],
    )


@covers(forms.CommentForm)
def test_comment_passed_on_by_the_representative(o, client_for):
    url = reverse(
        "deliberation:public_consultation",
        kwargs={"village_code": o.village_x.code, "pk": o.version.pk},
    )
    article = o.version.articles.first()
    hunt(
        client_for("rep_a"),
        url,
        {
            "article": article.pk,
            "author_name": "张三明",
            "text": "建议增加一条",
            "household": o.household.pk,
        },
        st.fixed_dictionaries(
            {
                "article": maybe(article.pk),
                "author_name": maybe("张三明"),
                "text": maybe("建议增加一条"),
                "household": st.one_of(maybe(o.household.pk), st.just(o.household_y.pk)),
            }
        ),
        effect=Effect(grows={"deliberation.Comment": 1, AUDIT: 1}),
    )


@covers(forms.CommitmentForm)
def test_commitments(o, client_for):
    households = [h.pk for h in o.rep_a.households.order_by("pk")]
    hunt(
        client_for("rep_a"),
        reverse("deliberation:commitments"),
        {"signed_on": today(), "household": households[:2]},
        st.fixed_dictionaries(
            {
                "signed_on": st.one_of(st.sampled_from([today(), today(1), "2000-01-01"]), NASTY),
                "household": st.one_of(
                    st.lists(st.sampled_from(households + [o.household_y.pk]), max_size=4),
                    NASTY,
                ),
            }
        ),
        effect=Effect(grows={"deliberation.Commitment": (0, len(households)), AUDIT: 1}),
    )
