"""Quarterly red/black lists: policy edge cases, idempotent publication, revisions."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from points.lists import (
    ineligible_household_ids,
    list_entry_withdraw,
    quarter_bounds,
    village_lists_publish,
)
from points.models import ListEntry, ListPolicy, ListPublication, PrizeTier
from tests.jobs.factories import award, base_points, households_with_heads, move_out
from tests.points.factories import category_for, make_shop_with_products

Q3 = "2026Q3"
DAY = dt.date(2026, 8, 10)


def entries(pub, colour):
    return list(pub.entries.filter(colour=colour).order_by("rank", "household_id"))


def test_quarter_bounds_are_local_dates_end_exclusive():
    assert quarter_bounds("2026Q4") == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    with pytest.raises(ValidationError):
        quarter_bounds("2026Q5")


@pytest.mark.parametrize("quarter", ["0000Q1", "1999Q4", "2101Q1", "9999Q4"])
def test_quarter_bounds_refuse_years_outside_2000_to_2100(quarter):
    # 0000Q1 and 9999Q4 used to reach dt.date() and raise ValueError (a 500 on the review page)
    with pytest.raises(ValidationError, match="年份超出范围"):
        quarter_bounds(quarter)
    assert quarter_bounds("2000Q1")[0] == dt.date(2000, 1, 1)
    assert quarter_bounds("2100Q4")[1] == dt.date(2101, 1, 1)


def test_ties_at_rank_n_are_all_on_the_red_list(village, grid, village_clerk):
    # given top 2 and three households tied for second place
    ListPolicy.objects.create(village=village, red_top_n=2)
    a, b, c, d, e = households_with_heads(grid, 5)
    award(village_clerk, [a], 50, DAY)
    award(village_clerk, [b, c, d], 30, DAY)
    award(village_clerk, [e], 10, DAY)
    # when published
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    # then the leader and all three tied at rank 2 are red; rank 5 is not
    red = entries(pub, "red")
    assert [(x.household_id, x.rank) for x in red] == [
        (a.pk, 1),
        (b.pk, 2),
        (c.pk, 2),
        (d.pk, 2),
    ]


def test_all_zero_quarter_publishes_empty_lists(village, grid, village_clerk):
    households_with_heads(grid, 4)
    base_points(village)  # base points are not quarter points
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    assert pub.status == "published"
    assert pub.entries.count() == 0


def test_offence_puts_household_on_black_list_and_off_the_red_list(village, grid, village_clerk):
    ListPolicy.objects.create(village=village, red_top_n=3, mask_black_names=True)
    a, b = households_with_heads(grid, 2, names=["张三明", "李四"])
    base_points(village)
    award(village_clerk, [a], 80, DAY)
    award(village_clerk, [a], -10, DAY, offence=True, name="焚烧秸秆")
    award(village_clerk, [b], 20, DAY)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    assert [x.household_id for x in entries(pub, "red")] == [b.pk]
    (black,) = entries(pub, "black")
    assert black.household_id == a.pk
    assert black.public_name == "张*明"
    assert ineligible_household_ids(village_id=village.pk, quarter=Q3) == {a.pk}


def test_black_threshold_and_min_points_combined_with_and(village, grid, village_clerk):
    ListPolicy.objects.create(
        village=village,
        red_top_n=5,
        red_min_points=40,
        red_combine="and",
        black_max_points=-20,
        black_on_offence=False,
        mask_black_names=False,
    )
    a, b, c = households_with_heads(grid, 3, names=["甲一", "乙二", "丙三"])
    base_points(village)
    award(village_clerk, [a], 50, DAY)
    award(village_clerk, [b], 30, DAY)
    award(village_clerk, [c], -30, DAY)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    assert [x.household_id for x in entries(pub, "red")] == [a.pk]
    (black,) = entries(pub, "black")
    assert (black.household_id, black.public_name, black.points) == (c.pk, "丙三", -30)


def test_household_that_moved_out_is_not_listed(village, grid, village_clerk):
    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a, b], 40, DAY)
    move_out(a)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    assert [x.household_id for x in entries(pub, "red")] == [b.pk]


def test_entries_outside_the_quarter_and_reversed_entries_do_not_count(
    village, grid, village_clerk
):
    from points.services import entry_reverse

    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a], 40, dt.date(2026, 6, 30))  # Q2
    (wrong,) = award(village_clerk, [b], 40, DAY)
    entry_reverse(actor=village_clerk, entry=wrong, reason="记错户")
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    assert pub.entries.count() == 0


def test_publishing_twice_changes_nothing(village, grid, village_clerk):
    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a, b], 40, DAY)
    (first,) = village_lists_publish(village=village, quarter=Q3)
    award(village_clerk, [a], 40, DAY)  # late entries do not reshuffle a published list
    (second,) = village_lists_publish(village=village, quarter=Q3)
    assert first.pk == second.pk
    assert ListPublication.objects.filter(village=village).count() == 1
    assert ListEntry.objects.filter(publication__village=village).count() == 2


def test_prize_tiers_follow_the_frozen_ranking(village, grid, village_clerk):
    _shop, (mattress, blanket) = make_shop_with_products(
        village, village_clerk, products=(("床垫", 300, 4), ("毛毯", 100, 6))
    )
    PrizeTier.objects.create(village=village, rank_from=1, rank_to=1, product=mattress)
    PrizeTier.objects.create(village=village, rank_from=2, rank_to=3, product=blanket)
    a, b, c, d = households_with_heads(grid, 4)
    award(village_clerk, [a], 90, DAY)
    award(village_clerk, [b, c], 50, DAY)
    award(village_clerk, [d], 10, DAY)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    prizes = {x.household_id: x.prize_id for x in entries(pub, "red")}
    assert prizes == {a.pk: mattress.pk, b.pk: blanket.pk, c.pk: blanket.pk, d.pk: None}


def test_withdrawing_an_entry_makes_a_new_revision(village, grid, village_clerk):
    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a, b], 40, DAY)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    target = pub.entries.get(household=a)
    revision = list_entry_withdraw(actor=village_clerk, entry=target, reason="积分来源有异议")
    pub.refresh_from_db()
    assert (pub.status, revision.status, revision.revision) == ("superseded", "published", 2)
    assert not pub.entries.filter(withdrawn=True).exists()  # the old revision is untouched
    withdrawn = revision.entries.get(household=a)
    assert withdrawn.withdrawn and withdrawn.withdrawn_reason == "积分来源有异议"
    with pytest.raises(ValidationError):
        list_entry_withdraw(actor=village_clerk, entry=target, reason="再撤一次")


def test_an_overlong_reason_is_refused_by_name_and_a_nul_byte_dropped(village, grid, village_clerk):
    (a,) = households_with_heads(grid, 1)
    award(village_clerk, [a], 40, DAY)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    entry = pub.entries.get()
    with pytest.raises(ValidationError, match="理由最多300个字，现在有301个字"):
        list_entry_withdraw(actor=village_clerk, entry=entry, reason="理" * 301)
    assert ListPublication.objects.filter(village=village).count() == 1
    revision = list_entry_withdraw(actor=village_clerk, entry=entry, reason="积分\x00有误")
    assert revision.entries.get(household=a).withdrawn_reason == "积分有误"


def test_withdraw_needs_a_reason_and_the_village_staff(village, grid, village_clerk, stranger):
    (a,) = households_with_heads(grid, 1)
    award(village_clerk, [a], 40, DAY)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    entry = pub.entries.get()
    with pytest.raises(ValidationError):
        list_entry_withdraw(actor=village_clerk, entry=entry, reason=" ")
    with pytest.raises(ValidationError):
        list_entry_withdraw(actor=stranger, entry=entry, reason="无权")


def test_database_allows_one_published_revision_per_quarter_and_theme(village):
    common = {
        "village": village,
        "quarter": Q3,
        "theme": "overall",
        "status": "published",
        "published_at": dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        "objection_until": dt.date(2026, 10, 8),
    }
    ListPublication.objects.create(revision=1, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        ListPublication.objects.create(revision=2, **common)


def test_courtyard_theme_ranks_only_the_courtyard_category(village, grid, village_clerk):
    courtyard = category_for(village.township, village_clerk, name="家庭美德")
    ListPolicy.objects.create(village=village, courtyard_category=courtyard)
    a, b = households_with_heads(grid, 2)
    base_points(village)
    award(village_clerk, [a], 30, DAY, category=courtyard, name="庭院整洁")
    award(village_clerk, [b], 60, DAY)  # another category
    award(village_clerk, [b], -5, DAY, category=courtyard, offence=True, name="庭院脏乱")
    overall, yard = village_lists_publish(village=village, quarter=Q3)
    assert yard.theme == "courtyard"
    assert [x.household_id for x in entries(yard, "red")] == [a.pk]
    assert [x.household_id for x in entries(yard, "black")] == [b.pk]
    assert [x.household_id for x in entries(overall, "black")] == [b.pk]


def test_objection_upheld_withdraws_the_entry_in_a_new_revision(village, grid, village_clerk):
    from points.lists import objection_decide, objection_record

    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a, b], 40, DAY)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    entry = pub.entries.get(household=a)
    objection = objection_record(actor=village_clerk, entry=entry, text="该户积分系代记")
    decided = objection_decide(
        actor=village_clerk, objection=objection, upheld=True, decision="核实属实，撤下"
    )
    assert decided.status == "upheld"
    current = ListPublication.objects.get(village=village, status="published")
    assert current.revision == 2
    assert current.entries.get(household=a).withdrawn_reason == "核实属实，撤下"
    with pytest.raises(ValidationError):
        objection_decide(actor=village_clerk, objection=objection, upheld=False, decision="再处理")


def test_objection_after_the_window_is_refused(village, grid, village_clerk):
    from points.lists import objection_record

    (a,) = households_with_heads(grid, 1)
    award(village_clerk, [a], 40, DAY)
    (pub,) = village_lists_publish(
        village=village, quarter=Q3, now=dt.datetime(2026, 10, 1, 2, tzinfo=dt.UTC)
    )
    assert pub.objection_until == dt.date(2026, 10, 8)
    with pytest.raises(ValidationError, match="异议期已于2026-10-08结束"):
        objection_record(actor=village_clerk, entry=pub.entries.get(), text="有异议")


def test_a_run_publishes_a_townships_villages_from_one_reading_of_the_ledger(
    village, other_village, grid, village_clerk
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grids.models import Role
    from points.lists import ListsRun
    from tests.factories import GridFactory, user_with_scope

    # given two villages of one township, each with an offender and two good households,
    # and an offence rule of the first village that the second never used
    there = GridFactory(village=other_village, code=f"{other_village.code}001")
    clerk_there = user_with_scope(Role.VILLAGE_STAFF, village=other_village, is_staff=True)
    a, b, c = households_with_heads(grid, 3)
    x, y, z = households_with_heads(there, 3)
    award(village_clerk, [a], 40, DAY)
    award(village_clerk, [b], 20, DAY)
    award(village_clerk, [c], 30, dt.date(2026, 6, 20))  # last quarter: a balance to lose
    award(village_clerk, [c], -20, DAY, offence=True, name="违规燃放")
    award(clerk_there, [x], 30, DAY)
    award(clerk_there, [y, z], 10, DAY)
    # when the run publishes both
    run = ListsRun([village, other_village], Q3)
    with CaptureQueriesContext(connection) as first:
        (here,) = run.publish(village)
    with CaptureQueriesContext(connection) as second:
        (there_pub,) = run.publish(other_village)
    # then each village's lists are its own
    assert [(e.household_id, e.colour, e.rank) for e in entries(here, "red")] == [
        (a.pk, "red", 1),
        (b.pk, "red", 2),
    ]
    assert [e.household_id for e in entries(here, "black")] == [c.pk]
    assert [(e.household_id, e.rank) for e in entries(there_pub, "red")] == [
        (x.pk, 1),
        (y.pk, 2),
        (z.pk, 2),
    ]
    assert entries(there_pub, "black") == []
    # and the second village did not read the ledger again
    ledger = [q for q in second.captured_queries if "points_ledgerentry" in q["sql"]]
    assert ledger == [] and len(second.captured_queries) < len(first.captured_queries)


def test_a_household_black_listed_for_its_courtyard_wins_no_prize_and_the_next_moves_up(
    village, grid, village_clerk
):
    # given prize tiers 1 mattress, 2–3 blanket, and the overall leader on the 脏乱庭院 list
    # (courtyard net −15 ≤ −10, while overall it has 75 points)
    courtyard = category_for(village.township, village_clerk, name="家庭美德")
    ListPolicy.objects.create(
        village=village, red_top_n=4, black_max_points=-10, courtyard_category=courtyard
    )
    _shop, (mattress, blanket) = make_shop_with_products(
        village, village_clerk, products=(("床垫", 300, 4), ("毛毯", 100, 6))
    )
    PrizeTier.objects.create(village=village, rank_from=1, rank_to=1, product=mattress)
    PrizeTier.objects.create(village=village, rank_from=2, rank_to=3, product=blanket)
    a, b, c, d = households_with_heads(grid, 4)
    award(village_clerk, [a], 90, DAY)
    award(village_clerk, [a], -15, DAY, category=courtyard, name="庭院脏乱")
    award(village_clerk, [b], 60, DAY)
    award(village_clerk, [c, d], 40, DAY)
    # when the quarter is published
    overall, yard = village_lists_publish(village=village, quarter=Q3)
    # then the leader (75) keeps rank 1 on the overall red list but wins nothing, and every other
    # household moves up one prize place: b the mattress, c and d (tied) a blanket each
    assert [x.household_id for x in entries(yard, "black")] == [a.pk]
    red = {x.household_id: (x.rank, x.prize_id) for x in entries(overall, "red")}
    assert red == {
        a.pk: (1, None),
        b.pk: (2, mattress.pk),
        c.pk: (3, blanket.pk),
        d.pk: (3, blanket.pk),
    }
    assert ineligible_household_ids(village_id=village.pk, quarter=Q3) == {a.pk}


def test_a_household_already_black_listed_in_a_published_theme_wins_no_prize(
    village, grid, village_clerk
):
    # given the courtyard list published first (a village run for that theme), then the overall
    from points.lists import _publish_theme

    courtyard = category_for(village.township, village_clerk, name="家庭美德")
    policy = ListPolicy.objects.create(
        village=village, black_max_points=-10, courtyard_category=courtyard
    )
    _shop, (mattress,) = make_shop_with_products(
        village, village_clerk, products=(("床垫", 300, 4),)
    )
    PrizeTier.objects.create(village=village, rank_from=1, rank_to=1, product=mattress)
    a, b = households_with_heads(grid, 2)
    award(village_clerk, [a], 90, DAY)
    award(village_clerk, [a], -15, DAY, category=courtyard, name="庭院脏乱")
    award(village_clerk, [b], 30, DAY)
    now = dt.datetime(2026, 10, 1, 2, tzinfo=dt.UTC)
    _publish_theme(village=village, quarter=Q3, theme="courtyard", policy=policy, now=now)
    overall, _created = _publish_theme(
        village=village, quarter=Q3, theme="overall", policy=policy, now=now
    )
    assert {x.household_id: x.prize_id for x in entries(overall, "red")} == {
        a.pk: None,
        b.pk: mattress.pk,
    }


# --- the policy edge cases under every kind of policy -------------------------------------------

# a 50 · g 40−5 with an offence (net 35) · b, c, d 30 · e 10 · f −15 (a deduction, no offence)
POLICIES = {
    "top 2 (offences black)": (
        {"red_top_n": 2},
        ["a1", "b2", "c2", "d2"],
        ["g"],
    ),
    "top 2 or ≥ 10": (
        {"red_top_n": 2, "red_min_points": 10, "red_combine": "or"},
        ["a1", "b2", "c2", "d2", "e5"],
        ["g"],
    ),
    "top 2 and ≥ 35": (
        {"red_top_n": 2, "red_min_points": 35, "red_combine": "and"},
        ["a1"],
        ["g"],
    ),
    "≥ 30 only": (
        {"red_top_n": None, "red_min_points": 30},
        ["a1", "b2", "c2", "d2"],
        ["g"],
    ),
    "top 3, black at ≤ −10 only": (
        {"red_top_n": 3, "black_max_points": -10, "black_on_offence": False},
        ["a1", "g2", "b3", "c3", "d3"],
        ["f"],
    ),
    "top 3 and ≥ 30, black at ≤ −10 or an offence": (
        {"red_top_n": 3, "red_min_points": 30, "red_combine": "and", "black_max_points": -10},
        ["a1", "b2", "c2", "d2"],
        ["f", "g"],
    ),
}


def quarter_of_seven(grid, clerk):
    names = "abcdefg"
    houses = dict(zip(names, households_with_heads(grid, len(names)), strict=True))
    base_points(grid.village)  # base points do not count, but let deductions be recorded
    award(clerk, [houses["a"]], 50, DAY)
    award(clerk, [houses["b"], houses["c"], houses["d"]], 30, DAY)
    award(clerk, [houses["e"]], 10, DAY)
    award(clerk, [houses["f"]], -15, DAY)
    award(clerk, [houses["g"]], 40, DAY)
    award(clerk, [houses["g"]], -5, DAY, offence=True, name="乱倒垃圾")
    return houses


def listed(pub, houses):
    letter = {h.pk: name for name, h in houses.items()}
    red = [f"{letter[e.household_id]}{e.rank}" for e in entries(pub, "red")]
    black = [letter[e.household_id] for e in entries(pub, "black")]
    return red, black


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_ties_at_rank_n_under_every_policy(policy, village, grid, village_clerk):
    fields, red, black = policy
    ListPolicy.objects.create(village=village, **fields)
    houses = quarter_of_seven(grid, village_clerk)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    assert listed(pub, houses) == (red, black)


@pytest.mark.parametrize(
    "fields",
    [
        *(p[0] for p in POLICIES.values()),
        # a black threshold at or above zero does not black-list a village that did nothing
        {"red_top_n": 5, "red_min_points": 0, "black_max_points": 0},
    ],
    ids=[*POLICIES.keys(), "≥ 0 red, ≤ 0 black"],
)
def test_an_all_zero_quarter_publishes_empty_lists_under_every_policy(
    fields, village, grid, village_clerk
):
    ListPolicy.objects.create(village=village, **fields)
    households_with_heads(grid, 4)
    base_points(village)
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    assert (pub.status, pub.entries.count()) == ("published", 0)


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
def test_households_that_moved_out_are_on_no_list_under_any_policy(
    policy, village, grid, village_clerk
):
    # given the seven, plus a moved-out leader (90) and a moved-out offender (−50)
    fields, red, black = policy
    ListPolicy.objects.create(village=village, **fields)
    leader, offender = households_with_heads(grid, 2)
    houses = quarter_of_seven(grid, village_clerk)
    award(village_clerk, [leader], 90, DAY)
    award(village_clerk, [offender], -50, DAY, offence=True, name="焚烧秸秆")
    move_out(leader)
    move_out(offender)
    # then the lists are exactly those of the seven
    (pub,) = village_lists_publish(village=village, quarter=Q3)
    assert listed(pub, houses) == (red, black)
