"""Hostile input on every form and import: a Chinese error or a clean 4xx, never a 500, and
never a partial write.

Each property posts arbitrary Unicode, 100k-character strings, wrong types, impossible dates,
negative and enormous quantities and malformed 身份证号 into one form (valid values mixed in so
that the deeper service checks are reached too) and checks the answer and the table counts.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grids.models import Resident, Visit
from grids.roster_import import (
    ROSTER_COLUMNS,
    TERRITORY_COLUMNS,
    ImportRejected,
    read_table,
    roster_import,
    territory_import,
)
from tests.security.test_permission_matrix import table_state

CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR_MARKERS = ("invalid-feedback", "errorlist", "alert-danger", "is-invalid", "text-danger")

WEIRD = [
    "",
    " ",
    "\x00",
    "\u3000",
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
    "2024-13-01",
    "-1",
    "0",
    str(10**20),
    str(-(10**20)),
    "1e309",
    "NaN",
    "Infinity",
    "1.5",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "43090319700101001X",  # wrong check character
    "4309031970010100",  # too short
    "430903197002300012",  # 2月30日
    "ＡＢＣ１２３",
    "🙂" * 20,
    "\u202e反转",
    "a" * 100_000,
    "中" * 100_000,
]
NASTY = st.one_of(
    st.sampled_from(WEIRD),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.lists(st.sampled_from(WEIRD[:12]), min_size=2, max_size=3),
)
FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def maybe(valid) -> st.SearchStrategy:
    return st.one_of(st.just(valid), NASTY)


def check_answer(response, before: dict, *, plain_ok: bool = False) -> None:
    status = response.status_code
    assert status < 500
    if status == 302:
        return  # accepted (the valid values were drawn) or refused with a message
    assert status in (200, 400, 403, 404, 405, 413), status
    assert table_state() == before, "an error answer left a partial write"
    if status in (200, 400):
        body = response.content.decode()
        if status == 200 and not plain_ok:
            errors = [m.start() for marker in ERROR_MARKERS for m in re.finditer(marker, body)]
            assert errors, "an error answer without an error next to a field"
            assert any(CJK.search(body[i : i + 400]) for i in errors), "error not in Chinese"
        assert CJK.search(body)


def post_property(client, url, data, *, plain_ok: bool = False) -> None:
    before = table_state()
    check_answer(client.post(url, data), before, plain_ok=plain_ok)


@pytest.fixture
def o(world):
    return world.obj


@pytest.fixture
def today():
    return timezone.localdate().isoformat()


def test_visit_form(o, client_for):
    client = client_for("rep_a")
    url = reverse("rep:visit_new")

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "household": maybe(o.household.pk),
                "method": maybe("in_person"),
                "note": maybe("走访"),
                "latitude": maybe("28.1"),
                "longitude": maybe("112.9"),
            }
        )
    )
    def prop(data):
        post_property(client, url, data)

    prop()


def test_request_form(o, client_for):
    client = client_for("rep_a")
    url = reverse("rep:request_new")

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "household": maybe(o.household.pk),
                "kind": maybe("request"),
                "title": maybe("路灯不亮"),
                "description": NASTY,
                "proposed_level": maybe("grid"),
                "dispute_parties": NASTY,
                "mediation_agreement": NASTY,
            }
        )
    )
    def prop(data):
        post_property(client, url, data)

    prop()


@pytest.mark.parametrize("action", ["triage", "return", "close", "duplicate", "supervise"])
def test_staff_request_actions(action, o, client_for):
    client = client_for("township")
    url = reverse("staff:request_action", args=[o.request_grid.pk, action])

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "level": maybe("village"),
                "department": maybe(o.department.pk),
                "note": NASTY,
                "original": maybe(o.request.pk),
            }
        )
    )
    def prop(data):
        post_property(client, url, data)

    prop()


def test_claim_form(o, client_for, today):
    client = client_for("rep_a")
    url = reverse("points:claim_new", args=[o.household.pk])

    @FAST
    @given(
        st.fixed_dictionaries(
            {"rule": maybe(o.rule.pk), "occurred_on": maybe(today), "note": NASTY}
        )
    )
    def prop(data):
        post_property(client, url, data)

    prop()


def test_bulk_award(o, client_for, today):
    client = client_for("clerk_x")
    url = reverse("points:bulk_award")

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "rule": maybe(o.rule.pk),
                "occurred_on": maybe(today),
                "households": maybe([o.household.pk]),
                "note": NASTY,
            }
        )
    )
    def prop(data):
        post_property(client, url, data)

    prop()


def test_counter_redemption(o, client_for):
    client = client_for("clerk_x")
    url = reverse("points:counter_household", args=[o.household.pk])
    product = o.shop.products.order_by("pk").first()

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                f"qty_{product.pk}": maybe(1),
                "action": st.sampled_from(["preview", "confirm"]),
                "request_key": maybe("k" * 32),
                "shop": maybe(o.shop.pk),
            }
        )
    )
    def prop(data):
        # A valid preview is a 200 confirmation page that writes nothing.
        post_property(client, url, data, plain_ok=data["action"] == "preview")

    prop()


def test_meeting_create(o, client_for):
    client = client_for("clerk_x")
    url = reverse("deliberation:meeting_create")

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "village": maybe(o.village_x.pk),
                "kind": maybe("session"),
                "title": maybe("议事会"),
                "venue": maybe("courtyard"),
                "scheduled_at": maybe("2030-01-01T09:00"),
                "notice_text": NASTY,
                "agenda": NASTY,
            }
        )
    )
    def prop(data):
        post_property(client, url, data)

    prop()


def test_attendance(o, client_for):
    client = client_for("clerk_x")
    url = reverse("deliberation:meeting_attendance", args=[o.meeting.pk])

    @FAST
    @given(st.fixed_dictionaries({"present": maybe([o.head.pk]), "shown": maybe([o.head.pk])}))
    def prop(data):
        post_property(client, url, data)

    prop()


def test_vote(o, client_for):
    client = client_for("clerk_x")
    url = reverse("deliberation:motion_vote", args=[o.motion.pk])

    @FAST
    @given(st.fixed_dictionaries({"voter": maybe(o.head.pk), "choice": maybe("yes")}))
    def prop(data):
        post_property(client, url, data)

    prop()


def test_rule_version_create(o, client_for):
    client = client_for("clerk_x")
    url = reverse("deliberation:rule_version_create")

    @FAST
    @given(
        st.fixed_dictionaries(
            {
                "village": maybe(o.village_x.pk),
                "title": maybe("村规民约"),
                "preamble": NASTY,
                "articles": maybe("【孝老爱亲】子女应当赡养父母。"),
            }
        )
    )
    def prop(data):
        post_property(client, url, data)

    prop()


def test_public_consultation_comment(o, client_for):
    client = client_for("anonymous")
    url = reverse(
        "deliberation:public_consultation",
        kwargs={"village_code": o.village_x.code, "pk": o.version.pk},
    )
    article = o.version.articles.first()

    @FAST
    @given(
        st.fixed_dictionaries(
            {"article": maybe(article.pk), "author_name": maybe("李四"), "text": NASTY}
        )
    )
    def prop(data):
        post_property(client, url, data)

    prop()


# --- imports -------------------------------------------------------------------------------

CELL = st.one_of(st.sampled_from(WEIRD[:-2]), st.text(max_size=30))


def _csv(columns, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _roster_row(o):
    return st.fixed_dictionaries(
        {
            "网格代码": st.one_of(st.just(o.grid_a.code), CELL),
            "户号": st.one_of(st.just("H90001"), CELL),
            "姓名": st.one_of(st.just("王五"), CELL),
            "与户主关系": st.one_of(st.just("户主"), CELL),
            "性别": st.one_of(st.just("男"), CELL),
            "出生日期": st.one_of(st.just("1970-01-01"), CELL),
            "身份证号": st.one_of(st.just("430903197001011239"), CELL),
            "手机号": st.one_of(st.just("13900001111"), CELL),
        }
    ).map(lambda row: [row.get(column, "") for column in ROSTER_COLUMNS])


def test_roster_import_service(o, world):
    clerk = world.users["clerk_x"]

    @FAST
    @given(st.lists(_roster_row(o), min_size=1, max_size=3))
    def prop(rows):
        before = table_state()
        try:
            table = read_table(
                data=_csv(ROSTER_COLUMNS, rows), filename="r.csv", columns=ROSTER_COLUMNS
            )
            roster_import(actor=clerk, village=o.village_x, table=table, dry_run=True)
        except ImportRejected as exc:
            assert all(CJK.search(str(issue)) for issue in exc.issues)
        assert table_state() == before  # a dry run, or a rejection, writes nothing

    prop()


def test_territory_import_service(o, world):
    staff = world.users["township"]

    @FAST
    @given(
        st.lists(
            st.lists(CELL, min_size=len(TERRITORY_COLUMNS), max_size=len(TERRITORY_COLUMNS)),
            min_size=1,
            max_size=3,
        )
    )
    def prop(rows):
        before = table_state()
        with pytest.raises(ImportRejected) as caught:
            table = read_table(
                data=_csv(TERRITORY_COLUMNS, rows), filename="t.csv", columns=TERRITORY_COLUMNS
            )
            territory_import(actor=staff, table=table, township_code=o.township.code)
        assert all(CJK.search(str(issue)) for issue in caught.value.issues)
        assert table_state() == before

    prop()


def test_import_upload_pages_take_any_bytes(o, client_for):
    clerk = client_for("clerk_x")
    township = client_for("township")

    @FAST
    @given(
        st.one_of(
            st.binary(max_size=2000),
            st.sampled_from(
                [b"PK\x03\x04garbage", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x00" * 100]
            ),
        ),
        st.sampled_from(["a.csv", "a.xlsx", "a.xls", "../../etc/passwd", "名单.CSV"]),
    )
    def prop(data, name):
        from django.core.files.uploadedfile import SimpleUploadedFile

        for client, url in (
            (clerk, reverse("grids:import_roster")),
            (township, reverse("grids:import_territory")),
        ):
            before = table_state()
            response = client.post(url, {"file": SimpleUploadedFile(name, data)})
            assert response.status_code == 200
            assert table_state() == before
            assert CJK.search(response.content.decode())

    prop()


def test_bad_id_number_in_roster_is_named_not_stored(o, world):
    row = ["" for _ in ROSTER_COLUMNS]
    values = dict(zip(ROSTER_COLUMNS, row, strict=True))
    values.update(
        {
            "网格代码": o.grid_a.code,
            "户号": "H90002",
            "姓名": "赵六",
            "与户主关系": "户主",
            "性别": "男",
            "出生日期": "1970-01-01",
            "身份证号": "43090319700101123X",
        }
    )
    table = read_table(
        data=_csv(ROSTER_COLUMNS, [[values[c] for c in ROSTER_COLUMNS]]),
        filename="r.csv",
        columns=ROSTER_COLUMNS,
    )
    with pytest.raises(ImportRejected) as caught:
        roster_import(actor=world.users["clerk_x"], village=o.village_x, table=table)
    assert "身份证号" in " ".join(str(i) for i in caught.value.issues)
    assert not Resident.objects.filter(name="赵六").exists()


# --- the cases hypothesis found, pinned so they stay fixed ------------------------------------


def test_bulk_award_with_ids_too_big_for_the_database_is_a_form_error(o, client_for, today):
    for bad in (str(10**20), "-1", "abc", "1.5"):
        before = table_state()
        response = client_for("clerk_x").post(
            reverse("points:bulk_award"),
            {"rule": o.rule.pk, "occurred_on": today, "households": [bad]},
        )
        assert response.status_code == 400  # the page's own answer to an invalid form
        assert "所选农户无效" in response.content.decode()
        assert table_state() == before


def test_garbled_hidden_location_is_dropped_not_an_invisible_error(o, client_for):
    response = client_for("rep_a").post(
        reverse("rep:visit_new"),
        {"household": o.household.pk, "method": "in_person", "latitude": "28.1", "longitude": " "},
    )
    assert response.status_code == 302
    visit = Visit.objects.latest("pk")
    assert visit.latitude is None and visit.longitude is None


def test_nul_characters_in_an_import_file_are_refused_in_chinese():
    data = _csv(ROSTER_COLUMNS, [["\x00"] + [""] * (len(ROSTER_COLUMNS) - 1)])
    with pytest.raises(ImportRejected) as caught:
        read_table(data=data, filename="r.csv", columns=ROSTER_COLUMNS)
    assert "空字符" in str(caught.value.issues[0])


def test_vote_for_someone_not_waiting_to_vote_says_so(o, client_for):
    client = client_for("clerk_x")
    url = reverse("deliberation:motion_vote", args=[o.motion.pk])
    assert client.post(url, {"voter": o.head.pk, "choice": "yes"}).status_code == 302
    before = table_state()
    again = client.post(url, {"voter": o.head.pk, "choice": "no"})
    assert again.status_code == 200
    assert "这一票没有记录" in again.content.decode()
    assert table_state() == before


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("42", 42),
        (" 42 ", 42),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),  # one past the largest database id
        ("100000000000000000000", None),
        ("²", None),  # str.isdigit() says yes, int() says no
        ("٣", None),
        ("-1", None),
        ("1e3", None),
        ("", None),
        (None, None),
    ],
)
def test_ids_from_requests_are_parsed_strictly(raw, expected):
    from grids.validators import parse_id

    assert parse_id(raw) == expected
