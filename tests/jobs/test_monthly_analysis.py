"""Monthly analysis: every figure equals an independent SQL count; month edges in Asia/Shanghai."""

import datetime as dt

import pytest
from django.db import connection

from governance import analysis
from governance.models import MonthlyReport
from grids.models import Visit
from tests.jobs.data import at, build_month

OCT = dt.date(2026, 10, 1)
START, END = at(2026, 10, 1, 0, 0), at(2026, 11, 1, 0, 0)


def _bind(params):
    """Datetimes bound the way the backend stores them (UTC text on SQLite)."""
    return [
        connection.ops.adapt_datetimefield_value(p) if isinstance(p, dt.datetime) else p
        for p in params
    ]


def sql(query, params=()):
    """Run raw SQL returning one value."""
    with connection.cursor() as cursor:
        cursor.execute(query, _bind(params))
        row = cursor.fetchone()
    return row[0] if row else None


def sql_groups(query, params=()):
    """Run raw SQL returning (key, count) rows, as a dict sorted by key."""
    with connection.cursor() as cursor:
        cursor.execute(query, _bind(params))
        return dict(sorted(cursor.fetchall()))


def sql_figures(village_ids: list[int], month: dt.date) -> dict:
    """Every figure of the snapshot for the villages together, by hand-written SQL."""
    following = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start = at(month.year, month.month, 1, 0, 0)
    end = at(following.year, following.month, 1, 0, 0)
    ids = ",".join(str(int(v)) for v in village_ids)
    requests = f"FROM governance_request r WHERE r.village_id IN ({ids}) AND r.status<>'duplicate' "
    reported = requests + "AND r.reported_at>=%s AND r.reported_at<%s"
    resolved = requests + "AND r.resolved_at>=%s AND r.resolved_at<%s"
    ledger = (
        "FROM points_ledgerentry e JOIN points_account a ON a.id=e.account_id "
        f"JOIN grids_household h ON h.id=a.household_id WHERE h.village_id IN ({ids}) "
        "AND e.occurred_on>=%s AND e.occurred_on<%s "
    )
    visits = (
        "FROM grids_visit vi JOIN grids_household h ON h.id=vi.household_id "
        f"WHERE h.village_id IN ({ids}) AND vi.visited_at>=%s AND vi.visited_at<%s"
    )
    return_visits = (
        "FROM governance_returnvisit rv JOIN governance_request r ON r.id=rv.request_id "
        f"WHERE r.village_id IN ({ids}) AND rv.at>=%s AND rv.at<%s"
    )
    households = f"(SELECT COUNT(*) FROM grids_household WHERE village_id IN ({ids}))"
    if connection.vendor == "postgresql":
        took = "EXTRACT(EPOCH FROM (r.resolved_at - r.reported_at)) / 86400.0"
    else:
        took = "julianday(r.resolved_at) - julianday(r.reported_at)"
    committed = (
        "FROM deliberation_commitment c JOIN deliberation_ruleversion rv ON rv.id=c.version_id "
        "JOIN grids_household h ON h.id=c.household_id "
        f"WHERE h.village_id IN ({ids}) AND rv.in_force_from<=%s AND c.signed_on<%s "
        "AND rv.status IN ('in_force','superseded') "
        "AND (rv.superseded_at IS NULL OR rv.superseded_at>=%s)"
    )
    last_day = following - dt.timedelta(days=1)
    days = [month, following]
    span = [start, end]
    fig = {
        "households": sql(f"SELECT {households}"),
        "visits": sql(f"SELECT COUNT(*) {visits}", span),
        "visited_households": sql(f"SELECT COUNT(DISTINCT vi.household_id) {visits}", span),
        "active_representatives": sql(
            f"SELECT COUNT(DISTINCT vi.representative_id) {visits}", span
        ),
        "representatives": sql(
            "SELECT COUNT(*) FROM grids_representative r JOIN grids_grid g ON g.id=r.grid_id "
            f"WHERE g.village_id IN ({ids}) AND r.appointed_on<%s "
            "AND (r.ended_on IS NULL OR r.ended_on>=%s)",
            [following, month],
        ),
        "requests": sql(f"SELECT COUNT(*) {reported}", span),
        "escalated": sql(f"SELECT COUNT(*) {reported} AND r.escalated", span),
        "resolved": sql(f"SELECT COUNT(*) {resolved}", span),
        "resolved_in_grid": sql(
            f"SELECT COUNT(*) {resolved} AND r.resolved_level='grid' AND NOT r.escalated", span
        ),
        "consultations_answered": sql(
            f"SELECT COUNT(*) {resolved} AND r.kind='consultation'", span
        ),
        "overdue": sql(
            f"SELECT COUNT(*) {requests} AND r.deadline>=%s AND r.deadline<%s "
            "AND (r.resolved_at IS NULL OR r.resolved_at>r.deadline)",
            span,
        ),
        "return_visits": sql(f"SELECT COUNT(*) {return_visits}", span),
        "satisfied": sql(
            f"SELECT COUNT(*) {return_visits} AND rv.satisfaction IN ('satisfied','basically')",
            span,
        ),
        "points_awarded": sql(
            f"SELECT COALESCE(SUM(e.points),0) {ledger} AND e.kind='award'", days
        ),
        "points_deducted": sql(
            f"SELECT COALESCE(-SUM(e.points),0) {ledger} AND e.kind='deduction'", days
        ),
        "points_redeemed": sql(
            f"SELECT COALESCE(-SUM(e.points),0) {ledger} AND e.kind='redemption'", days
        ),
        "meetings_held": sql(
            f"SELECT COUNT(*) FROM deliberation_meeting WHERE village_id IN ({ids}) "
            "AND status='held' AND held_at>=%s AND held_at<%s",
            span,
        ),
        "attendance": sql(
            "SELECT COUNT(*) FROM deliberation_attendance a JOIN deliberation_meeting m "
            f"ON m.id=a.meeting_id WHERE m.village_id IN ({ids}) AND m.status='held' "
            "AND m.held_at>=%s AND m.held_at<%s",
            span,
        ),
        "committed_households": sql(
            f"SELECT COUNT(DISTINCT c.household_id) {committed}", [last_day, following, end]
        ),
        "by_kind": sql_groups(f"SELECT r.kind, COUNT(*) {reported} GROUP BY r.kind", span),
        "by_category": sql_groups(
            "SELECT COALESCE(c.name, '未分类'), COUNT(*) FROM governance_request r "
            "LEFT JOIN governance_requestcategory c ON c.id=r.category_id "
            f"WHERE r.village_id IN ({ids}) AND r.status<>'duplicate' "
            "AND r.reported_at>=%s AND r.reported_at<%s GROUP BY COALESCE(c.name, '未分类')",
            span,
        ),
        "by_level": sql_groups(
            "SELECT COALESCE(NULLIF(r.level, ''), 'untriaged'), COUNT(*) "
            f"{reported} GROUP BY COALESCE(NULLIF(r.level, ''), 'untriaged')",
            span,
        ),
        "by_status": sql_groups(f"SELECT r.status, COUNT(*) {reported} GROUP BY r.status", span),
        "avg_days_to_resolve": sql(f"SELECT ROUND(AVG({took}) * 10) / 10.0 {resolved}", span),
        "coverage": sql(
            f"SELECT ROUND(100.0 * COUNT(DISTINCT vi.household_id) / {households}, 1) {visits}",
            span,
        ),
        "satisfaction_rate": sql(
            "SELECT ROUND(100.0 * SUM(CASE WHEN rv.satisfaction IN ('satisfied','basically') "
            f"THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0), 1) {return_visits}",
            span,
        ),
        "grid_resolution_rate": sql(
            "SELECT ROUND(100.0 * SUM(CASE WHEN r.resolved_level='grid' AND NOT r.escalated "
            f"THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0), 1) {resolved}",
            span,
        ),
        "commitment_coverage": sql(
            f"SELECT ROUND(100.0 * COUNT(DISTINCT c.household_id) / {households}, 1) {committed}",
            [last_day, following, end],
        ),
    }
    for key in ("avg_days_to_resolve", "coverage", "satisfaction_rate", "grid_resolution_rate"):
        fig[key] = None if fig[key] is None else float(fig[key])
    fig["commitment_coverage"] = float(fig["commitment_coverage"])
    return fig


@pytest.fixture
def month(village, other_village, grid, village_clerk):
    return build_month(village, grid, village_clerk, other_village=other_village)


def test_every_village_figure_equals_a_direct_sql_count(month, village):
    fig = analysis.village_figures([village.pk], OCT)[village.pk]
    expected = sql_figures([village.pk], OCT)
    assert {k: fig[k] for k in expected} == expected
    assert set(analysis.ADDITIVE) - {"resolve_days_sum"} <= set(expected)
    assert set(analysis.BREAKDOWNS) <= set(expected)
    # and the hand count of the fixture, so that a wrong SQL above cannot agree by accident
    assert (fig["visits"], fig["visited_households"], fig["requests"]) == (4, 3, 4)
    assert (fig["resolved"], fig["resolved_in_grid"], fig["overdue"]) == (3, 2, 3)
    assert (fig["points_awarded"], fig["points_deducted"], fig["committed_households"]) == (
        40,
        5,
        3,
    )
    assert fig["points_redeemed"] == 30  # the 1 November redemption is November's
    assert (fig["meetings_held"], fig["attendance"], fig["satisfied"]) == (1, 3, 1)
    assert fig["by_kind"] == {"consultation": 1, "request": 3}
    assert fig["by_status"] == {"closed": 2, "in_progress": 1, "resolved": 1}
    # 12 households: 4 + 3 + 2 linked to the three representatives, and their own three
    assert (fig["coverage"], fig["grid_resolution_rate"], fig["commitment_coverage"]) == (
        25.0,
        66.7,
        25.0,
    )
    assert fig["avg_days_to_resolve"] == round((2 + 17 + 0) / 3, 1)


def test_change_and_previous_equal_sql_for_every_change_key(month, village):
    # given no September report, when October is stored
    report = analysis.village_report_store(village=village, month=OCT)
    october, september = sql_figures([village.pk], OCT), sql_figures([village.pk], SEP)
    # then previous is September's figure by SQL and change the difference, for every key
    assert report.figures["previous"] == {k: september[k] for k in analysis.CHANGE_KEYS}
    assert report.figures["change"] == {
        k: None if september[k] is None else round(october[k] - september[k], 1)
        for k in analysis.CHANGE_KEYS
    }
    assert report.figures["change"]["visits"] == 4 - 2  # hand count
    assert report.figures["previous"]["satisfaction_rate"] is None  # no return visit in Sep


def test_township_snapshot_equals_a_direct_sql_count(month, village, other_village, township):
    analysis.monthly_analysis_run(month=OCT)
    town = MonthlyReport.objects.get(township=township, village=None, month=OCT).figures
    villages = list(township.villages.values_list("pk", flat=True))
    expected = sql_figures(villages, OCT)
    assert {k: town[k] for k in expected} == expected
    assert (town["visits"], town["requests"], town["households"]) == (5, 5, 15)
    previous = sql_figures(villages, SEP)
    assert town["previous"] == {k: previous[k] for k in analysis.CHANGE_KEYS}


@pytest.mark.parametrize("value", ["0000-01", "1999-12", "2101-01", "9999-12"])
def test_parse_month_refuses_years_outside_2000_to_2100(value):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="年份超出范围"):
        analysis.parse_month(value)
    assert analysis.parse_month("2100-12") == dt.date(2100, 12, 1)


def test_breakdowns_rates_and_people(month, village):
    fig = analysis.village_figures([village.pk], OCT)[village.pk]
    assert fig["by_category"] == {"道路": 2, "饮水": 2}
    assert fig["by_level"] == {"grid": 3, "village": 1}
    assert fig["satisfaction_rate"] == 50.0
    assert fig["avg_days_to_resolve"] == round((2 + 17 + 0) / 3, 1)
    assert [r["id"] for r in fig["needing_attention"]] == [month["rep_idle"].pk]


def test_red_flag_ranking_follows_the_documented_formula(month, village):
    # rep_a: visited 2 of 4 households (50%), 1 of 2 requests resolved in the grid (50%),
    #        1 of 2 return visits satisfied (50%) → 0.5·50 + 0.3·50 + 0.2·50 = 50.0
    # rep_b: 1 of 3 (33.3%), 1 of 2 (50%), no return visit (counts as 100%) → 51.7
    # rep_idle: no visit this month → not a candidate
    fig = analysis.village_figures([village.pk], OCT)[village.pk]
    ranked = [(r["id"], r["score"]) for r in fig["red_flag"]]
    assert ranked == [(month["rep_b"].pk, 51.7), (month["rep_a"].pk, 50.0)]


def test_township_summary_sums_its_villages(month, village, other_village, township):
    analysis.monthly_analysis_run(month=OCT)
    town = MonthlyReport.objects.get(township=township, village=None, month=OCT)
    parts = MonthlyReport.objects.filter(township=township, village__isnull=False, month=OCT)
    for key in ("visits", "requests", "resolved", "points_awarded", "households"):
        assert town.figures[key] == sum(p.figures[key] for p in parts)
    assert town.visits == town.figures["visits"]


def test_rerun_replaces_the_snapshot_with_identical_figures(month, village):
    first = analysis.village_report_store(village=village, month=OCT)
    again = analysis.village_report_store(village=village, month=OCT)
    assert first.pk == again.pk
    assert first.figures == again.figures
    assert MonthlyReport.objects.filter(village=village).count() == 1


def test_change_from_last_month(month, village):
    report = analysis.village_report_store(village=village, month=OCT)
    assert report.figures["change"]["visits"] == 4 - 2
    assert report.figures["previous"]["visits"] == 2


def test_query_count_does_not_grow_with_villages(
    month, village, other_village, django_assert_max_num_queries
):
    from tests.factories import VillageFactory

    with django_assert_max_num_queries(20) as few:
        analysis.village_figures([village.pk, other_village.pk], OCT)
    for i in range(5):
        VillageFactory(township=village.township, code=f"43090310630{i}")
    ids = list(village.township.villages.values_list("pk", flat=True))
    with django_assert_max_num_queries(len(few.captured_queries)):
        analysis.village_figures(ids, OCT)


SEP = dt.date(2026, 9, 1)


def test_change_compares_with_last_months_report_once_that_month_had_ended(month, village):
    # September's report, taken after September ended, said 2 visits
    september = analysis.village_report_store(village=village, month=SEP)
    assert september.figures["visits"] == 2
    # a September visit recorded late does not rewrite what was reported for September
    late = Visit.objects.filter(household__village=village, visited_at__lt=START).first()
    Visit.objects.create(
        representative_id=late.representative_id,
        household_id=late.household_id,
        visited_at=at(2026, 9, 20),
    )
    october = analysis.village_report_store(village=village, month=OCT)
    assert october.figures["previous"]["visits"] == 2
    assert october.figures["change"]["visits"] == 4 - 2


def test_a_report_taken_before_its_month_ended_is_not_used_as_last_month(month, village):
    september = analysis.village_report_store(village=village, month=SEP)
    MonthlyReport.objects.filter(pk=september.pk).update(generated_at=at(2026, 9, 15))
    late = Visit.objects.filter(household__village=village, visited_at__lt=START).first()
    Visit.objects.create(
        representative_id=late.representative_id,
        household_id=late.household_id,
        visited_at=at(2026, 9, 20),
    )
    october = analysis.village_report_store(village=village, month=OCT)
    assert october.figures["previous"]["visits"] == 3  # recomputed from the data


def test_a_run_computes_a_townships_villages_together(month, village, other_village, township):
    from django.test.utils import CaptureQueriesContext

    from tests.factories import VillageFactory

    def run_queries():
        with CaptureQueriesContext(connection) as captured:
            analysis.monthly_analysis_run(month=OCT)
        return len(captured.captured_queries)

    two = run_queries()
    for i in range(6):
        VillageFactory(township=township, code=f"43090310640{i}")
    eight = run_queries()
    # six more villages cost their own writes (transaction, upsert: ~7 statements each), not
    # another set of figure queries (~30 for the month and the last) per village
    assert eight - two <= 6 * 8, (two, eight)
    figures = MonthlyReport.objects.get(village=village, month=OCT).figures
    assert figures == {
        **analysis.village_figures([village.pk], OCT)[village.pk],
        "change": figures["change"],
        "previous": figures["previous"],
    }


def test_township_of_a_one_village_run_recomputes_the_other_villages(
    month, village, other_village, township
):
    # other_village's snapshot is stale: taken before its data changed
    analysis.monthly_analysis_run(month=OCT)
    stale = MonthlyReport.objects.get(village=other_village, month=OCT)
    MonthlyReport.objects.filter(pk=stale.pk).update(generated_at=at(2026, 11, 2))
    late = Visit.objects.filter(household__village=other_village, visited_at__gte=START).first()
    assert late is not None
    Visit.objects.create(
        representative_id=late.representative_id,
        household_id=late.household_id,
        visited_at=at(2026, 10, 20),
    )
    analysis.monthly_analysis_run(month=OCT, village_code=village.code)
    town = MonthlyReport.objects.get(township=township, village=None, month=OCT)
    fresh = analysis.village_figures([village.pk, other_village.pk], OCT)
    assert town.figures["visits"] == fresh[village.pk]["visits"] + fresh[other_village.pk]["visits"]


def test_the_first_month_computes_last_month_once_for_villages_and_township(
    month, village, other_village, township
):
    from django.test.utils import CaptureQueriesContext

    def run_queries(**kwargs):
        with CaptureQueriesContext(connection) as captured:
            analysis.monthly_analysis_run(month=OCT, **kwargs)
        return [q["sql"] for q in captured.captured_queries if "grids_visit" in q["sql"]]

    # with no September report, the run reads September's visits once, for the villages only,
    # and only for what the change column compares (no attention list, no 红旗网格员 ranking)
    first = run_queries()
    analysis.monthly_analysis_run(month=SEP)
    # with September reported, it reads October's alone
    steady = run_queries()
    assert len(steady) == 3, steady  # visits, representatives needing attention, red flag
    assert len(first) == len(steady) + 1, (len(first), len(steady))
    town = MonthlyReport.objects.get(township=township, village=None, month=OCT)
    assert town.figures["previous"]["visits"] == sum(
        analysis.village_figures([v.pk], SEP)[v.pk]["visits"] for v in (village, other_village)
    )


def test_the_month_before_is_computed_for_the_change_column_only(month, village):
    full = analysis.village_figures([village.pk], SEP)[village.pk]
    for_change = analysis.village_figures([village.pk], SEP, for_change=True)[village.pk]
    assert full["visits"] > 0
    assert {k: for_change[k] for k in analysis.CHANGE_KEYS} == {
        k: full[k] for k in analysis.CHANGE_KEYS
    }
    assert for_change["red_flag"] == [] and for_change["needing_attention"] == []


def test_villages_are_taken_in_groups():
    from grids import batches

    groups = batches.village_batches(list(range(1, 8)), size=3)
    assert groups[1] == groups[3] == [1, 2, 3]
    assert groups[4] == [4, 5, 6] and groups[7] == [7]
