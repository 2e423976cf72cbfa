"""The floor for the scale benchmarks: bare SQL computing the same figures as the services.

``monthly_floor`` computes, for every village at once, the figures that
``analysis.village_figures`` computes one village at a time (one statement per figure family,
``GROUP BY village``); ``lists_floor`` ranks every village's quarter in one statement with
``RANK() OVER (PARTITION BY village ...)``. The benchmark times both against the services, and
the smoke test compares their results with the services' stored snapshots and lists.

Definitions follow governance/analysis.py and points/lists.py (documented in docs/reports.md);
they are written here independently, in SQL, so that a disagreement shows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import connection

from governance.analysis import month_bounds, next_month
from grids.models import Village

GOOD = ("satisfied", "basically")

FAMILIES = {
    "households": """
        SELECT village_id, count(*) AS households FROM grids_household GROUP BY village_id
    """,
    "visits": """
        SELECT h.village_id, count(*) AS visits,
               count(DISTINCT v.household_id) AS visited_households,
               count(DISTINCT v.representative_id) AS active_representatives
        FROM grids_visit v JOIN grids_household h ON h.id = v.household_id
        WHERE v.visited_at >= %(start)s AND v.visited_at < %(end)s
        GROUP BY h.village_id
    """,
    "representatives": """
        SELECT g.village_id, count(*) AS representatives
        FROM grids_representative r JOIN grids_grid g ON g.id = r.grid_id
        WHERE r.appointed_on < %(end_day)s AND (r.ended_on IS NULL OR r.ended_on >= %(start_day)s)
        GROUP BY g.village_id
    """,
    "requests": """
        SELECT village_id, count(*) AS requests, count(*) FILTER (WHERE escalated) AS escalated
        FROM governance_request
        WHERE reported_at >= %(start)s AND reported_at < %(end)s AND status <> 'duplicate'
        GROUP BY village_id
    """,
    "resolved": """
        SELECT village_id, count(*) AS resolved,
               count(*) FILTER (WHERE resolved_level = 'grid' AND NOT escalated)
                   AS resolved_in_grid,
               count(*) FILTER (WHERE kind = 'consultation') AS consultations_answered,
               round((sum(extract(epoch FROM resolved_at - reported_at)) / 86400)::numeric, 4)
                   AS resolve_days_sum
        FROM governance_request
        WHERE resolved_at >= %(start)s AND resolved_at < %(end)s AND status <> 'duplicate'
        GROUP BY village_id
    """,
    "overdue": """
        SELECT village_id, count(*) AS overdue FROM governance_request
        WHERE deadline >= %(start)s AND deadline < %(end)s AND status <> 'duplicate'
          AND (resolved_at IS NULL OR resolved_at > deadline)
        GROUP BY village_id
    """,
    "satisfaction": """
        SELECT q.village_id, count(*) AS return_visits,
               count(*) FILTER (WHERE rv.satisfaction IN ('satisfied', 'basically')) AS satisfied
        FROM governance_returnvisit rv JOIN governance_request q ON q.id = rv.request_id
        WHERE rv.at >= %(start)s AND rv.at < %(end)s
        GROUP BY q.village_id
    """,
    "points": """
        SELECT h.village_id,
               coalesce(sum(e.points) FILTER (WHERE e.kind = 'award'), 0) AS points_awarded,
               -coalesce(sum(e.points) FILTER (WHERE e.kind = 'deduction'), 0)
                   AS points_deducted,
               -coalesce(sum(e.points) FILTER (WHERE e.kind = 'redemption'), 0)
                   AS points_redeemed
        FROM points_ledgerentry e
        JOIN points_account a ON a.id = e.account_id
        JOIN grids_household h ON h.id = a.household_id
        WHERE e.occurred_on >= %(start_day)s AND e.occurred_on < %(end_day)s
        GROUP BY h.village_id
    """,
    "meetings": """
        SELECT m.village_id, count(DISTINCT m.id) AS meetings_held, count(a.id) AS attendance
        FROM deliberation_meeting m LEFT JOIN deliberation_attendance a ON a.meeting_id = m.id
        WHERE m.status = 'held' AND m.held_at >= %(start)s AND m.held_at < %(end)s
        GROUP BY m.village_id
    """,
    "commitments": """
        SELECT h.village_id, count(DISTINCT c.household_id) AS committed_households
        FROM deliberation_commitment c
        JOIN deliberation_ruleversion rv ON rv.id = c.version_id
        JOIN deliberation_villagerule r ON r.id = rv.rule_id
        JOIN grids_household h ON h.id = c.household_id
        WHERE rv.status IN ('in_force', 'superseded') AND rv.in_force_from <= %(last_day)s
          AND (rv.superseded_at IS NULL OR rv.superseded_at >= %(end)s)
          AND c.signed_on < %(end_day)s
        GROUP BY h.village_id
    """,
}

BREAKDOWN_SQL = """
    SELECT q.village_id, q.kind, coalesce(nullif(q.level, ''), 'untriaged') AS level, q.status,
           coalesce(c.name, %(uncategorised)s) AS category, count(*) AS n,
           GROUPING(q.kind) AS g_kind, GROUPING(coalesce(nullif(q.level, ''), 'untriaged')) AS g_level,
           GROUPING(q.status) AS g_status, GROUPING(coalesce(c.name, %(uncategorised)s)) AS g_cat
    FROM governance_request q LEFT JOIN governance_requestcategory c ON c.id = q.category_id
    WHERE q.reported_at >= %(start)s AND q.reported_at < %(end)s AND q.status <> 'duplicate'
    GROUP BY GROUPING SETS (
        (q.village_id, q.kind),
        (q.village_id, coalesce(nullif(q.level, ''), 'untriaged')),
        (q.village_id, q.status),
        (q.village_id, coalesce(c.name, %(uncategorised)s))
    )
"""

NEEDING_ATTENTION_SQL = """
    SELECT g.village_id, r.id
    FROM grids_representative r JOIN grids_grid g ON g.id = r.grid_id
    WHERE r.appointed_on < %(end_day)s AND (r.ended_on IS NULL OR r.ended_on >= %(start_day)s)
      AND NOT EXISTS (
          SELECT 1 FROM grids_visit v
          WHERE v.representative_id = r.id AND v.visited_at >= %(start)s AND v.visited_at < %(end)s
      )
    ORDER BY g.code, r.id
"""

RED_FLAG_SQL = """
    WITH reps AS (
        SELECT r.id, g.village_id FROM grids_representative r JOIN grids_grid g ON g.id = r.grid_id
        WHERE r.appointed_on < %(end_day)s AND (r.ended_on IS NULL OR r.ended_on >= %(start_day)s)
    ), assigned AS (
        SELECT representative_id AS id, count(*) AS n FROM grids_household
        WHERE representative_id IN (SELECT id FROM reps) GROUP BY representative_id
    ), visited AS (
        SELECT representative_id AS id, count(DISTINCT household_id) AS n FROM grids_visit
        WHERE visited_at >= %(start)s AND visited_at < %(end)s GROUP BY representative_id
    ), req AS (
        SELECT representative_id AS id, count(*) AS n,
               count(*) FILTER (WHERE resolved_at IS NOT NULL AND resolved_level = 'grid'
                                AND NOT escalated) AS in_grid
        FROM governance_request
        WHERE reported_at >= %(start)s AND reported_at < %(end)s AND status <> 'duplicate'
          AND representative_id IS NOT NULL
        GROUP BY representative_id
    ), fb AS (
        SELECT q.representative_id AS id, count(*) AS n,
               count(*) FILTER (WHERE rv.satisfaction IN ('satisfied', 'basically')) AS good
        FROM governance_returnvisit rv JOIN governance_request q ON q.id = rv.request_id
        WHERE rv.at >= %(start)s AND rv.at < %(end)s GROUP BY q.representative_id
    ), scored AS (
        SELECT reps.id, reps.village_id,
               round(100 * (
                   0.5 * CASE WHEN coalesce(assigned.n, 0) = 0 THEN 0
                              ELSE least(1.0, visited.n::float8 / assigned.n) END
                 + 0.3 * CASE WHEN req.n IS NULL THEN 1.0 ELSE req.in_grid::float8 / req.n END
                 + 0.2 * CASE WHEN fb.n IS NULL THEN 1.0 ELSE fb.good::float8 / fb.n END
               )::numeric, 1) AS score
        FROM reps JOIN visited ON visited.id = reps.id AND visited.n > 0
        LEFT JOIN assigned ON assigned.id = reps.id
        LEFT JOIN req ON req.id = reps.id
        LEFT JOIN fb ON fb.id = reps.id
    )
    SELECT village_id, id, score FROM (
        SELECT *, row_number() OVER (PARTITION BY village_id ORDER BY score DESC, id) AS place
        FROM scored
    ) ranked WHERE place <= 3 ORDER BY village_id, place
"""


def month_params(month: dt.date) -> dict:
    start, end = month_bounds(month)
    end_day = next_month(month)
    return {
        "start": start,
        "end": end,
        "start_day": month,
        "end_day": end_day,
        "last_day": end_day - dt.timedelta(days=1),
        "uncategorised": "未分类",
    }


def _rows(cursor, sql: str, params: dict):
    cursor.execute(sql, params)
    names = [col.name for col in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# What the change column compares (analysis.CHANGE_KEYS) comes from these families alone.
CHANGE_FAMILIES = (
    "households",
    "visits",
    "requests",
    "resolved",
    "overdue",
    "satisfaction",
    "points",
    "meetings",
)


def monthly_floor(month: dt.date, *, for_change: bool = False) -> dict[int, dict]:
    """{village_id: figures} for the month: additive counts, breakdowns, attention, red flag;
    with ``for_change`` only the families the change column compares (the month before)."""
    params = month_params(month)
    out: dict[int, dict] = defaultdict(
        lambda: {"by_kind": {}, "by_level": {}, "by_status": {}, "by_category": {}}
    )
    with connection.cursor() as cursor:
        for name, sql in FAMILIES.items():
            if for_change and name not in CHANGE_FAMILIES:
                continue
            for row in _rows(cursor, sql, params):
                vid = row.pop("village_id")
                for key, value in row.items():
                    out[vid][key] = float(value) if key == "resolve_days_sum" else value
        if for_change:
            return dict(out)
        for row in _rows(cursor, BREAKDOWN_SQL, params):
            fig = out[row["village_id"]]
            if not row["g_kind"]:
                fig["by_kind"][row["kind"]] = row["n"]
            elif not row["g_level"]:
                fig["by_level"][row["level"]] = row["n"]
            elif not row["g_status"]:
                fig["by_status"][row["status"]] = row["n"]
            else:
                fig["by_category"][row["category"]] = row["n"]
        for row in _rows(cursor, NEEDING_ATTENTION_SQL, params):
            out[row["village_id"]].setdefault("needing_attention", []).append(row["id"])
        for row in _rows(cursor, RED_FLAG_SQL, params):
            out[row["village_id"]].setdefault("red_flag", []).append(row["id"])
    return dict(out)


def monthly_floor_with_previous(month: dt.date) -> tuple[dict, dict]:
    """What a first run of the monthly analysis needs: the month, and what the change column
    compares for the month before."""
    previous = (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return monthly_floor(month), monthly_floor(previous, for_change=True)


LISTS_SQL = """
    WITH totals AS (
        SELECT h.village_id, a.household_id, sum(e.points) AS net,
               count(*) FILTER (WHERE e.kind = 'deduction' AND r.black_list_offence) AS offences
        FROM points_ledgerentry e
        JOIN points_account a ON a.id = e.account_id
        JOIN grids_household h ON h.id = a.household_id
        LEFT JOIN points_pointsrule r ON r.id = e.rule_id
        WHERE e.kind IN ('award', 'deduction')
          AND e.occurred_on >= %(start)s AND e.occurred_on < %(end)s
          AND NOT EXISTS (SELECT 1 FROM points_ledgerentry x WHERE x.reverses_id = e.id)
          AND NOT EXISTS (  -- everyone moved out or deceased: off the lists
              SELECT 1 FROM grids_resident z WHERE z.household_id = a.household_id
              HAVING NOT bool_or(z.status IN ('present', 'away'))
          )
        GROUP BY h.village_id, a.household_id
    ), ranked AS (
        SELECT *, RANK() OVER (PARTITION BY village_id ORDER BY net DESC) AS place
        FROM totals WHERE net > 0 AND offences = 0
    )
    SELECT village_id, household_id, 'black' AS colour, NULL::bigint AS place, net
    FROM totals WHERE offences > 0
    UNION ALL
    SELECT village_id, household_id, 'red', place, net FROM ranked WHERE place <= %(top_n)s
"""


def lists_floor(*, start: dt.date, end: dt.date, top_n: int) -> dict[int, dict[str, set]]:
    """{village_id: {"red": {(household, rank, net)}, "black": {(household, None, net)}}}.

    The default list policy (top N by net points; black on any black-list offence), which is
    what every generated village has.
    """
    out: dict[int, dict[str, set]] = defaultdict(lambda: {"red": set(), "black": set()})
    with connection.cursor() as cursor:
        cursor.execute(LISTS_SQL, {"start": start, "end": end, "top_n": top_n})
        for village_id, household_id, colour, place, net in cursor.fetchall():
            out[village_id][colour].add((household_id, place, net))
    return dict(out)


ADDITIVE_KEYS = (
    "households",
    "visits",
    "visited_households",
    "active_representatives",
    "representatives",
    "requests",
    "escalated",
    "resolved",
    "resolved_in_grid",
    "consultations_answered",
    "resolve_days_sum",
    "overdue",
    "return_visits",
    "satisfied",
    "points_awarded",
    "points_deducted",
    "points_redeemed",
    "meetings_held",
    "attendance",
    "committed_households",
)


def monthly_mismatches(month: dt.date) -> list[str]:
    """Every stored village snapshot of the month compared with the floor; [] when all agree."""
    from governance.models import MonthlyReport

    floor = monthly_floor(month)
    problems = []
    reports = MonthlyReport.objects.filter(month=month, village__isnull=False)
    seen = 0
    for village_id, figures in reports.values_list("village_id", "figures"):
        seen += 1
        expected = floor.get(village_id, {})
        for key in ADDITIVE_KEYS:
            want = expected.get(key, 0)
            got = figures.get(key, 0)
            if abs(float(got) - float(want)) > (0.01 if key == "resolve_days_sum" else 0):
                problems.append(f"village {village_id} {key}: service {got}, SQL {want}")
        for key in ("by_kind", "by_level", "by_status", "by_category"):
            if figures.get(key, {}) != expected.get(key, {}):
                problems.append(
                    f"village {village_id} {key}: {figures.get(key)} != {expected.get(key)}"
                )
        attention = [r["id"] for r in figures.get("needing_attention", [])]
        if attention != expected.get("needing_attention", []):
            problems.append(f"village {village_id} needing_attention differs")
        red = [r["id"] for r in figures.get("red_flag", [])]
        if red != expected.get("red_flag", []):
            problems.append(f"village {village_id} red_flag: {red} != {expected.get('red_flag')}")
    if seen == 0:
        problems.append(f"no village snapshots stored for {month:%Y-%m}")
    # Each township's summary is the sum of all its villages.
    townships = MonthlyReport.objects.filter(month=month, village__isnull=True)
    for township_id, figures in townships.values_list("township_id", "figures"):
        village_ids = Village.objects.filter(township_id=township_id).values_list("id", flat=True)
        for key in ADDITIVE_KEYS:
            want = sum(floor.get(vid, {}).get(key, 0) for vid in village_ids)
            got = figures.get(key, 0)
            if abs(float(got) - float(want)) > (
                0.01 * len(village_ids) if key == "resolve_days_sum" else 0
            ):
                problems.append(f"township {township_id} {key}: service {got}, SQL {want}")
    return problems


def lists_mismatches(quarter: str) -> list[str]:
    """The published overall lists of the quarter compared with the floor."""
    from points.lists import quarter_bounds
    from points.models import ListEntry, ListPolicy, ListPublication

    start, end = quarter_bounds(quarter)
    default = ListPolicy()
    floor = lists_floor(start=start, end=end, top_n=default.red_top_n)
    custom = set(ListPolicy.objects.values_list("village_id", flat=True))
    published: dict[int, dict[str, set]] = defaultdict(lambda: {"red": set(), "black": set()})
    villages = set()
    for pub_village, household, colour, rank, points in ListEntry.objects.filter(
        publication__quarter=quarter,
        publication__status=ListPublication.Status.PUBLISHED,
        publication__theme=ListPublication.Theme.OVERALL,
        withdrawn=False,
    ).values_list("publication__village_id", "household_id", "colour", "rank", "points"):
        published[pub_village][colour].add((household, rank, points))
    villages = set(
        ListPublication.objects.filter(
            quarter=quarter, theme=ListPublication.Theme.OVERALL
        ).values_list("village_id", flat=True)
    )
    problems = []
    for village_id in sorted(villages - custom):
        want = floor.get(village_id, {"red": set(), "black": set()})
        got = published.get(village_id, {"red": set(), "black": set()})
        for colour in ("red", "black"):
            if want[colour] != got[colour]:
                problems.append(
                    f"village {village_id} {colour}: {len(got[colour])} published, "
                    f"{len(want[colour])} by SQL"
                )
    if not villages:
        problems.append(f"no lists published for {quarter}")
    return problems
