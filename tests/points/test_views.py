"""Points pages: scoping (404 outside), bad input in Chinese next to the form, query counts."""

import datetime as dt

import pytest
from django.urls import reverse

from grids.models import Resident
from points import services
from points.models import Account, Claim, LedgerEntry, Redemption
from tests.factories import HouseholdFactory
from tests.points.factories import (
    award,
    fund,
    held_meeting,
    make_rule,
    make_shop_with_products,
)


@pytest.fixture
def rep_household(representative):
    return representative.households.order_by("pk").first()


def _with_head(household, name="张三明"):
    head = Resident.objects.create(household=household, name=name, relation="户主")
    household.head = head
    household.save(update_fields=["head"])
    return household


@pytest.mark.django_db
def test_representative_submits_claim_for_own_household(
    login, representative, rep_household, village_clerk
):
    rule = make_rule(rep_household.village, village_clerk, name="志愿服务", points=10)
    client = login(representative.user)
    response = client.post(
        reverse("points:claim_new", args=[rep_household.pk]),
        {"rule": rule.pk, "occurred_on": dt.date.today().isoformat(), "note": "清理河道"},
    )
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert (claim.household, claim.submitted_by, claim.note) == (
        rep_household,
        representative.user,
        "清理河道",
    )


@pytest.mark.django_db
def test_representative_gets_404_for_household_not_theirs(login, representative, household):
    client = login(representative.user)
    assert client.get(reverse("points:claim_new", args=[household.pk])).status_code == 404
    assert client.get(reverse("points:passbook", args=[household.pk])).status_code == 404


@pytest.mark.django_db
def test_claim_for_future_date_keeps_input_and_shows_chinese_error(
    login, representative, rep_household, village_clerk
):
    rule = make_rule(rep_household.village, village_clerk)
    client = login(representative.user)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    response = client.post(
        reverse("points:claim_new", args=[rep_household.pk]),
        {"rule": rule.pk, "occurred_on": future, "note": "我的说明"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "事迹日期不能晚于今天" in body and "我的说明" in body
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_over_cap_claim_shows_message_and_writes_nothing(login, household, village_clerk):
    rule = make_rule(household.village, village_clerk, max_per_year=1, allow_same_day_repeat=True)
    award([household], rule, dt.date.today(), by=village_clerk)
    response = login(village_clerk).post(
        reverse("points:claim_new", args=[household.pk]),
        {"rule": rule.pk, "occurred_on": dt.date.today().isoformat()},
    )
    assert response.status_code == 400
    assert "已达上限（每年1次）" in response.content.decode()
    assert not Claim.objects.filter(batch__isnull=True).exists()


@pytest.mark.django_db
def test_self_approval_refused_on_the_page(login, household, village_clerk):
    rule = make_rule(household.village, village_clerk)
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=dt.date.today()
    )
    response = login(village_clerk).post(
        reverse("points:claim_decide", args=[claim.pk]), {"action": "approve"}
    )
    assert response.status_code == 400
    assert "不能审核自己提交的申报" in response.content.decode()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_clerk_approves_and_rejects_from_queue(login, household, village_clerk, second_clerk):
    rule = make_rule(household.village, village_clerk, allow_same_day_repeat=True)
    first, second = (
        services.claim_submit(
            actor=village_clerk, household=household, rule=rule, occurred_on=dt.date.today()
        )
        for _ in range(2)
    )
    client = login(second_clerk)
    assert household.number in client.get(reverse("points:claim_queue")).content.decode()
    empty = client.post(reverse("points:claim_decide", args=[second.pk]), {"action": "reject"})
    assert "这个字段是必填项" in empty.content.decode() or "必填" in empty.content.decode()
    client.post(reverse("points:claim_decide", args=[first.pk]), {"action": "approve"})
    client.post(
        reverse("points:claim_decide", args=[second.pk]), {"action": "reject", "reason": "重复申报"}
    )
    assert dict(Claim.objects.values_list("pk", "status")) == {
        first.pk: "approved",
        second.pk: "rejected",
    }
    assert Account.objects.get(household=household).balance == 20


@pytest.mark.django_db
def test_claim_queue_hides_other_villages_claims(login, household, other_village, township_staff):
    from grids.models import Role
    from tests.factories import GridFactory, user_with_scope

    other_household = HouseholdFactory(grid=GridFactory(village=other_village))
    rule = make_rule(other_village, township_staff)
    claim = services.claim_submit(
        actor=township_staff, household=other_household, rule=rule, occurred_on=dt.date.today()
    )
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=household.village)
    client = login(clerk)
    assert other_household.number not in client.get(reverse("points:claim_queue")).content.decode()
    assert client.get(reverse("points:claim_decide", args=[claim.pk])).status_code == 404


@pytest.mark.django_db
def test_passbook_lists_entries_with_running_balance(login, household, village_clerk):
    fund(household, village_clerk, 30)
    fund(household, village_clerk, 12)
    response = login(village_clerk).get(reverse("points:passbook", args=[household.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert '<strong id="balance">42</strong>' in body
    assert "+30" in body and "+12" in body


@pytest.mark.django_db
def test_printable_passbook_has_qr_pointing_to_public_page(login, household, village_clerk):
    fund(household, village_clerk, 30)
    response = login(village_clerk).get(
        reverse("points:passbook", args=[household.pk]) + "?print=1"
    )
    body = response.content.decode()
    assert "<svg" in body and household.public_code in body
    assert "style=" not in body.split("<svg", 1)[0]


@pytest.mark.django_db
def test_passbook_query_count_does_not_grow_with_entries(
    login, household, village_clerk, django_assert_max_num_queries
):
    client = login(village_clerk)
    fund(household, village_clerk, 5)
    url = reverse("points:passbook", args=[household.pk])
    with django_assert_max_num_queries(12):
        client.get(url)
    for _ in range(20):
        fund(household, village_clerk, 5)
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_public_passbook_shows_balance_rank_and_masked_head_only(client, grid, village_clerk):
    household = _with_head(HouseholdFactory(grid=grid), "张三明")
    richer = HouseholdFactory(grid=grid)
    fund(household, village_clerk, 30)
    fund(richer, village_clerk, 80)
    response = client.get(reverse("points:public_passbook", args=[household.public_code]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "张*明" in body and "张三明" not in body
    assert household.address not in body
    assert '<strong id="balance">30</strong>' in body
    assert "全村排名第2位（共2户）" in body


@pytest.mark.django_db
def test_public_passbook_query_count_is_constant(
    client, household, village_clerk, django_assert_max_num_queries
):
    for _ in range(15):
        fund(household, village_clerk, 5)
    with django_assert_max_num_queries(5):
        client.get(reverse("points:public_passbook", args=[household.public_code]))


@pytest.mark.django_db
def test_public_lookup_takes_a_code_copied_with_spaces_and_refuses_other_signs(client):
    response = client.get(reverse("points:public_lookup"), {"code": "abcd-efgh 2345"})
    assert response.status_code == 302
    assert response["Location"] == reverse("points:public_passbook", args=["ABCDEFGH2345"])
    for typed in ("abcd/efgh", "户码1234", "../x"):
        response = client.get(reverse("points:public_lookup"), {"code": typed})
        assert response.status_code == 200
        assert "户码只有字母和数字" in response.content.decode()


@pytest.mark.django_db
def test_unknown_public_code_is_404_with_chinese_message(client):
    response = client.get(reverse("points:public_passbook", args=["ZZZZZZZZZZZZ"]))
    assert response.status_code == 404
    assert "查询码不存在" in response.content.decode()


@pytest.mark.django_db
def test_counter_finds_household_by_public_code_and_redeems(login, household, village_clerk):
    shop, (rice, soap) = make_shop_with_products(household.village, village_clerk)
    fund(household, village_clerk, 100)
    client = login(village_clerk)
    found = client.get(reverse("points:counter"), {"q": household.public_code.lower()})
    assert found.status_code == 302
    url = reverse("points:counter_household", args=[household.pk])
    preview = client.post(
        url, {"shop": shop.pk, "action": "preview", f"qty_{rice.pk}": 1, f"qty_{soap.pk}": 1}
    )
    assert '<th class="text-end" id="total">50</th>' in preview.content.decode()
    assert not Redemption.objects.exists()
    key = preview.context["request_key"]
    data = {
        "shop": shop.pk,
        "action": "confirm",
        "request_key": key,
        f"qty_{rice.pk}": 1,
        f"qty_{soap.pk}": 1,
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # double tap
    assert Redemption.objects.count() == 1
    assert Account.objects.get(household=household).balance == 50


@pytest.mark.django_db
def test_counter_overdraft_shows_message_and_writes_nothing(login, household, village_clerk):
    shop, (rice, _soap) = make_shop_with_products(household.village, village_clerk)
    fund(household, village_clerk, 20)
    response = login(village_clerk).post(
        reverse("points:counter_household", args=[household.pk]),
        {"shop": shop.pk, "action": "confirm", "request_key": "k1", f"qty_{rice.pk}": 1},
    )
    assert response.status_code == 400
    assert "积分余额不足：现有20分，本次兑换需要30分" in response.content.decode()
    assert not Redemption.objects.exists()


@pytest.mark.django_db
def test_representative_cannot_open_the_counter(login, representative, rep_household):
    client = login(representative.user)
    assert client.get(reverse("points:counter")).status_code == 403
    assert (
        client.get(reverse("points:counter_household", args=[rep_household.pk])).status_code == 403
    )


@pytest.mark.django_db
def test_shop_report_shows_stock_and_spending(login, village, village_clerk, household):
    shop, (rice, soap) = make_shop_with_products(village, village_clerk)
    services.stock_donation(actor=village_clerk, product=rice, quantity=3, donor="乡贤王先生")
    fund(household, village_clerk, 100)
    services.household_redeem(
        actor=village_clerk,
        household=household,
        shop=shop,
        quantities={rice.pk: 2},
        request_key="x",
    )
    response = login(village_clerk).get(reverse("points:shop_report", args=[shop.pk]))
    body = response.content.decode()
    assert '<strong id="spent">200.00</strong>' in body
    assert "乡贤王先生" in body
    report = response.context["report"]
    line = next(line for line in report.lines if line.product == rice)
    assert (line.purchased, line.donated, line.redeemed, line.product.stock) == (10, 3, 2, 11)


@pytest.mark.django_db
def test_shop_report_of_other_village_is_404(login, other_village, township_staff, village_clerk):
    shop, _ = make_shop_with_products(other_village, township_staff)
    assert (
        login(village_clerk).get(reverse("points:shop_report", args=[shop.pk])).status_code == 404
    )


@pytest.mark.django_db
def test_rule_list_shows_village_rules(login, village, village_clerk):
    make_rule(village, village_clerk, name="违规操办红白喜事", points=-20, black_list_offence=True)
    body = login(village_clerk).get(reverse("points:rule_list")).content.decode()
    assert "违规操办红白喜事" in body and "-20" in body and "黑榜事项" in body


@pytest.mark.django_db
def test_honours_page_proposes_candidates_and_awards_with_certificate(login, grid, village_clerk):
    from points.models import Honour

    rich = _with_head(HouseholdFactory(grid=grid), "李四海")
    poor = HouseholdFactory(grid=grid)
    fund(rich, village_clerk, 250)
    fund(poor, village_clerk, 50)
    meeting = held_meeting(grid.village, village_clerk, title="道德评议会")
    year = dt.date.today().year
    client = login(village_clerk)
    page = client.get(reverse("points:honour_list"), {"threshold": 200})
    assert [c.household_id for c in page.context["candidates"]] == [rich.pk]
    data = {
        "village": grid.village_id,
        "household": rich.pk,
        "title": "文明家庭",
        "year": year,
        "meeting": meeting.pk,
    }
    response = client.post(reverse("points:honour_list") + f"?year={year}", data)
    assert response.status_code == 302
    honour = Honour.objects.get()
    assert (honour.household, honour.meeting) == (rich, meeting)
    again = client.post(reverse("points:honour_list") + f"?year={year}", data)
    assert f"已获得{year}年度“文明家庭”称号" in again.content.decode()
    certificate = client.get(reverse("points:honour_certificate", args=[honour.pk]))
    assert "荣誉证书" in certificate.content.decode() and "李四海" in certificate.content.decode()


@pytest.mark.django_db
def test_honour_form_without_a_meeting_is_refused_and_writes_nothing(login, grid, village_clerk):
    from points.models import Honour

    household = HouseholdFactory(grid=grid)
    response = login(village_clerk).post(
        reverse("points:honour_list"),
        {"village": grid.village_id, "household": household.pk, "title": "最美庭院", "year": 2026},
    )
    assert response.status_code == 400
    assert "请选择作出决定的会议" in response.content.decode()
    assert not Honour.objects.exists()


@pytest.mark.django_db
def test_honour_form_accepts_a_held_meeting_older_than_the_listed_ones(
    login, grid, village_clerk, monkeypatch
):
    """The meeting list shows the newest meetings; any held meeting of the village validates."""
    from points.forms import MeetingChoiceField
    from points.models import Honour

    monkeypatch.setattr(MeetingChoiceField, "shown", 1)
    old = held_meeting(grid.village, village_clerk, title="去年的道德评议会")
    held_meeting(grid.village, village_clerk, title="本月村民代表会议")
    household = HouseholdFactory(grid=grid)
    client = login(village_clerk)
    page = client.get(reverse("points:honour_list")).content.decode()
    assert "本月村民代表会议" in page and "去年的道德评议会" not in page
    response = client.post(
        reverse("points:honour_list"),
        {
            "village": grid.village_id,
            "household": household.pk,
            "title": "最美庭院",
            "year": 2026,
            "meeting": old.pk,
        },
    )
    assert response.status_code == 302
    assert Honour.objects.get().meeting == old


@pytest.mark.django_db
def test_needs_review_claim_is_approved_from_the_page_with_the_held_meeting(
    login, household, village_clerk, second_clerk
):
    rule = make_rule(
        household.village, village_clerk, name="创业带动", points=100, needs_review=True
    )
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=dt.date.today()
    )
    meeting = held_meeting(household.village, village_clerk, title="村民代表会议")
    client = login(second_clerk)
    page = client.get(reverse("points:claim_decide", args=[claim.pk])).content.decode()
    assert f'<option value="{meeting.pk}"' in page

    response = client.post(
        reverse("points:claim_decide", args=[claim.pk]),
        {"action": "approve", "meeting": meeting.pk},
    )

    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.meeting) == ("approved", meeting)
    assert Account.objects.get(household=household).balance == 100


@pytest.mark.django_db
def test_needs_review_claim_cannot_cite_another_villages_meeting_from_the_page(
    login, household, other_village, township_staff, village_clerk, second_clerk
):
    rule = make_rule(household.village, village_clerk, needs_review=True)
    claim = services.claim_submit(
        actor=village_clerk, household=household, rule=rule, occurred_on=dt.date.today()
    )
    elsewhere = held_meeting(other_village, township_staff)
    response = login(second_clerk).post(
        reverse("points:claim_decide", args=[claim.pk]),
        {"action": "approve", "meeting": elsewhere.pk},
    )
    assert response.status_code == 400
    assert "选择一个有效的选项" in response.content.decode()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_counter_accepts_a_scanned_passbook_url(login, household, village_clerk):
    scanned = f"http://127.0.0.1:8000/p/passbook/{household.public_code}/"
    response = login(village_clerk).get(reverse("points:counter"), {"q": scanned})
    assert response.status_code == 302
    assert response.url == reverse("points:counter_household", args=[household.pk])


@pytest.mark.django_db
def test_counter_search_by_number_lists_only_own_village(
    login, household, other_village, village_clerk
):
    from tests.factories import GridFactory

    HouseholdFactory(grid=GridFactory(village=other_village), number=household.number)
    response = login(village_clerk).get(reverse("points:counter"), {"q": household.number})
    assert list(response.context["households"]) == [household]


@pytest.mark.django_db
def test_claim_queue_query_count_does_not_grow_with_claims(
    login, grid, village_clerk, second_clerk, django_assert_max_num_queries
):
    rule = make_rule(grid.village, village_clerk, allow_same_day_repeat=True)
    client = login(second_clerk)

    def add_claims(n):
        for _ in range(n):
            services.claim_submit(
                actor=village_clerk,
                household=_with_head(HouseholdFactory(grid=grid)),
                rule=rule,
                occurred_on=dt.date.today(),
            )

    add_claims(1)
    with django_assert_max_num_queries(8):
        client.get(reverse("points:claim_queue"))
    add_claims(20)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("points:claim_queue"))
    assert len(response.context["page"]) == 21


@pytest.mark.django_db
def test_shop_report_and_counter_query_counts_do_not_grow_with_products(
    login, household, village_clerk, django_assert_max_num_queries
):
    shop, _ = make_shop_with_products(household.village, village_clerk)
    client = login(village_clerk)
    report_url = reverse("points:shop_report", args=[shop.pk])
    counter_url = reverse("points:counter_household", args=[household.pk])
    with django_assert_max_num_queries(10):
        client.get(report_url)
    with django_assert_max_num_queries(10):
        client.get(counter_url)
    for n in range(15):
        product = services.product_create(
            actor=village_clerk, shop=shop, name=f"商品{n}", points_price=5
        )
        services.stock_donation(actor=village_clerk, product=product, quantity=2, donor="乡贤")
    with django_assert_max_num_queries(10):
        assert client.get(report_url).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(counter_url).status_code == 200


@pytest.mark.django_db
def test_claim_with_photo_is_stored(
    login, representative, rep_household, village_clerk, settings, tmp_path
):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, format="PNG")
    photo = SimpleUploadedFile("deed.png", buffer.getvalue(), content_type="image/png")
    rule = make_rule(rep_household.village, village_clerk)
    response = login(representative.user).post(
        reverse("points:claim_new", args=[rep_household.pk]),
        {"rule": rule.pk, "occurred_on": dt.date.today().isoformat(), "evidence": photo},
    )
    assert response.status_code == 302
    claim = Claim.objects.get()
    assert claim.evidence.name.startswith("points/claims/")
    assert claim.evidence.name.endswith(".jpg")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-01-01", "end": "9999-12-31"},
        {"start": "0001-01-01", "end": "2026-01-31"},
        {"start": "²⁰²⁶-01-01", "end": "2026-01-31"},
    ],
)
def test_shop_report_out_of_range_dates_are_400_with_chinese_message(
    login, village, village_clerk, query
):
    shop, _ = make_shop_with_products(village, village_clerk)
    response = login(village_clerk).get(reverse("points:shop_report", args=[shop.pk]), query)
    assert response.status_code == 400
    body = response.content.decode()
    assert "日期应在2000-01-01至2100-12-31之间" in body or "输入一个有效的日期" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/points/households/99999999999999999999999/passbook/",
        "/points/counter/99999999999999999999999/",
        "/points/redemptions/99999999999999999999999/",
        "/points/claims/99999999999999999999999/",
        "/points/claims/batches/99999999999999999999999/",
        "/points/shops/99999999999999999999999/report/",
        "/points/honours/99999999999999999999999/certificate/",
        "/points/claim/99999999999999999999999/",
    ],
)
def test_huge_ids_in_urls_are_404_not_500(login, village_clerk, url):
    assert login(village_clerk).get(url).status_code == 404


@pytest.mark.django_db
def test_bulk_award_with_a_far_future_date_is_refused_in_chinese(login, grid, village_clerk):
    household = HouseholdFactory(grid=grid)
    rule = make_rule(grid.village, village_clerk)
    response = login(village_clerk).post(
        reverse("points:bulk_award"),
        {
            "village": grid.village_id,
            "rule": rule.pk,
            "occurred_on": "9999-12-31",
            "households": [household.pk],
        },
    )
    assert response.status_code == 400
    assert "日期应在2000-01-01至2100-12-31之间" in response.content.decode()


@pytest.mark.django_db
def test_counter_finds_households_by_the_heads_name_in_own_village_only(
    login, grid, other_village, village_clerk
):
    from tests.factories import GridFactory

    zhang = _with_head(HouseholdFactory(grid=grid), "张三明")
    _with_head(HouseholdFactory(grid=grid), "李四海")
    _with_head(HouseholdFactory(grid=GridFactory(village=other_village)), "张三明")
    client = login(village_clerk)

    full = client.get(reverse("points:counter"), {"q": "张三明"})
    part = client.get(reverse("points:counter"), {"q": "三明"})
    nobody = client.get(reverse("points:counter"), {"q": "王五"})

    assert list(full.context["households"]) == [zhang]
    assert list(part.context["households"]) == [zhang]
    assert reverse("points:counter_household", args=[zhang.pk]) in full.content.decode()
    assert not nobody.context["households"]
    assert "没有找到该户" in nobody.content.decode()


@pytest.mark.django_db
def test_cancelling_from_the_receipt_page_returns_points_and_stock(login, household, village_clerk):
    shop, (rice, soap) = make_shop_with_products(household.village, village_clerk)
    fund(household, village_clerk, 100)
    redemption = services.household_redeem(
        actor=village_clerk,
        household=household,
        shop=shop,
        quantities={rice.pk: 1, soap.pk: 2},
        request_key="receipt-1",
    )
    client = login(village_clerk)
    url = reverse("points:redemption_receipt", args=[redemption.pk])

    empty = client.post(url, {"reason": "  "})
    assert empty.status_code == 400 and "撤销时请填写原因" in empty.content.decode()
    assert Account.objects.get(household=household).balance == 30

    assert client.post(url, {"reason": "拿错商品"}).status_code == 302
    redemption.refresh_from_db()
    rice.refresh_from_db()
    soap.refresh_from_db()
    assert (redemption.status, redemption.cancel_reason) == ("cancelled", "拿错商品")
    assert Account.objects.get(household=household).balance == 100
    assert (rice.stock, soap.stock) == (10, 10)
    page = client.get(url).content.decode()
    assert "已撤销" in page and "拿错商品" in page and 'name="reason"' not in page

    again = client.post(url, {"reason": "再撤一次"})
    assert again.status_code == 400 and "已经撤销过了" in again.content.decode()
    assert Account.objects.get(household=household).balance == 100
    assert services.ledger_consistency_check() == []


@pytest.mark.django_db
def test_receipt_of_another_village_cannot_be_cancelled(
    login, other_village, township_staff, village_clerk
):
    from tests.factories import GridFactory

    outsider = HouseholdFactory(grid=GridFactory(village=other_village))
    shop, (rice, _soap) = make_shop_with_products(other_village, township_staff)
    fund(outsider, township_staff, 100)
    redemption = services.household_redeem(
        actor=township_staff,
        household=outsider,
        shop=shop,
        quantities={rice.pk: 1},
        request_key="receipt-2",
    )
    url = reverse("points:redemption_receipt", args=[redemption.pk])
    assert login(village_clerk).post(url, {"reason": "越权"}).status_code == 404
    redemption.refresh_from_db()
    assert redemption.status == "done"
