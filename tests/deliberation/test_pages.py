"""Staff, phone and public pages: scope, no-JS forms, computed results, no phone numbers."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from deliberation import services
from deliberation.models import Attendance, Meeting, Motion, RuleVersion, Vote
from grids.models import Resident, Role
from tests.deliberation.factories import households_with_adults, open_meeting
from tests.deliberation.test_rules import _in_force
from tests.factories import RepresentativeFactory, user_with_scope

PHONE = re.compile(r"1[3-9][0-9]{9}")


def _wuchang(clerk, village):
    return open_meeting(clerk, village, kind=Meeting.Kind.WUCHANG)


class TestAttendancePage:
    def test_ticking_checkboxes_records_attendance_without_javascript(
        self, village, grid, village_clerk, login
    ):
        people = list(Resident.objects.filter(household__in=households_with_adults(grid, 3)))
        meeting = _wuchang(village_clerk, village)
        client = login(village_clerk)
        url = reverse("deliberation:meeting_attendance", args=[meeting.pk])
        page = client.get(url)
        assert page.status_code == 200
        assert f'name="present" value="{people[0].pk}"' in page.content.decode()
        shown = [p.pk for p in people]
        response = client.post(url, {"present": [people[0].pk, people[2].pk], "shown": shown})
        assert response.status_code == 302
        assert set(
            Attendance.objects.filter(meeting=meeting).values_list("resident_id", flat=True)
        ) == {
            people[0].pk,
            people[2].pk,
        }

    def test_proxy_number_with_a_nul_byte_is_an_unknown_number_not_an_error(
        self, village, grid, village_clerk, login
    ):
        # Given a proxy 户号 that arrives with a NUL byte (PostgreSQL cannot compare it)
        person = Resident.objects.filter(household__in=households_with_adults(grid, 1)).get()
        meeting = _wuchang(village_clerk, village)

        # When the sheet is saved
        response = login(village_clerk).post(
            reverse("deliberation:meeting_attendance", args=[meeting.pk]),
            {"present": [person.pk], "shown": [person.pk], f"proxy_{person.pk}": "00\x0001"},
        )

        # Then the page says the number does not exist and records nothing
        assert response.status_code == 200
        assert "户号0001不存在" in response.content.decode()
        assert not Attendance.objects.filter(meeting=meeting).exists()

    def test_refused_change_keeps_the_ticks_and_says_why(self, village, grid, village_clerk, login):
        people = list(Resident.objects.filter(household__in=households_with_adults(grid, 2)))
        meeting = _wuchang(village_clerk, village)
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[p.pk for p in people]
        )
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="修路"
        )
        services.motion_open(actor=village_clerk, motion=motion)
        services.vote_cast(actor=village_clerk, motion=motion, resident=people[0], choice="yes")
        response = login(village_clerk).post(
            reverse("deliberation:meeting_attendance", args=[meeting.pk]),
            {"present": [people[1].pk], "shown": [p.pk for p in people]},
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "已经投票，不能取消其到会登记" in body
        assert f'value="{people[1].pk}" id="r{people[1].pk}" checked' in body
        assert f'value="{people[0].pk}" id="r{people[0].pk}" checked' not in body

    def test_saving_one_grid_keeps_the_other_grids_attendance(
        self, village, grid, other_grid, village_clerk, login
    ):
        here = list(Resident.objects.filter(household__in=households_with_adults(grid, 2)))
        there = list(Resident.objects.filter(household__in=households_with_adults(other_grid, 2)))
        meeting = _wuchang(village_clerk, village)
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[p.pk for p in here + there]
        )
        url = reverse("deliberation:meeting_attendance", args=[meeting.pk])
        page = login(village_clerk).get(f"{url}?grid={other_grid.pk}").content.decode()
        assert f'id="r{there[0].pk}"' in page and f'id="r{here[0].pk}"' not in page
        login(village_clerk).post(
            f"{url}?grid={other_grid.pk}",
            {"present": [there[1].pk], "shown": [p.pk for p in there]},
        )
        present = set(
            Attendance.objects.filter(meeting=meeting).values_list("resident_id", flat=True)
        )
        assert present == {here[0].pk, here[1].pk, there[1].pk}

    def test_proxy_is_entered_as_a_household_number(self, village, grid, village_clerk, login):
        households = households_with_adults(grid, 2)
        person = Resident.objects.get(household=households[0])
        meeting = _wuchang(village_clerk, village)
        url = reverse("deliberation:meeting_attendance", args=[meeting.pk])
        client = login(village_clerk)
        bad = client.post(
            url, {"present": [person.pk], "shown": [person.pk], f"proxy_{person.pk}": "NO-SUCH"}
        )
        assert "户号NO-SUCH不存在" in bad.content.decode()
        assert 'value="NO-SUCH"' in bad.content.decode()
        client.post(
            url,
            {
                "present": [person.pk],
                "shown": [person.pk],
                f"proxy_{person.pk}": households[1].number,
            },
        )
        assert Attendance.objects.get(meeting=meeting).proxy_for == households[1]

    def test_other_village_meeting_is_404_and_representative_is_forbidden(
        self, village, other_village, village_clerk, representative, login
    ):
        outsider = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
        meeting = _wuchang(village_clerk, village)
        url = reverse("deliberation:meeting_attendance", args=[meeting.pk])
        assert login(outsider).get(url).status_code == 404
        assert login(representative.user).get(url).status_code == 403

    def test_attendance_page_query_count_does_not_grow_with_households(
        self, village, grid, village_clerk, login, django_assert_max_num_queries
    ):
        households_with_adults(grid, 3, adults_each=2)
        meeting = _wuchang(village_clerk, village)
        client = login(village_clerk)
        url = reverse("deliberation:meeting_attendance", args=[meeting.pk])
        with django_assert_max_num_queries(14):
            client.get(url)
        households_with_adults(grid, 30, adults_each=3)
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200


class TestVotePages:
    def test_vote_then_result_page_shows_the_computed_outcome(
        self, village, grid, village_clerk, login
    ):
        people = list(Resident.objects.filter(household__in=households_with_adults(grid, 3)))
        meeting = _wuchang(village_clerk, village)
        services.attendance_set(
            actor=village_clerk, meeting=meeting, resident_ids=[p.pk for p in people]
        )
        motion = services.motion_create(
            actor=village_clerk, village=village, meeting=meeting, title="修路"
        )
        client = login(village_clerk)
        client.post(reverse("deliberation:motion_open", args=[motion.pk]))
        vote_url = reverse("deliberation:motion_vote", args=[motion.pk])
        for person, choice in zip(people, ["yes", "yes", "no"], strict=True):
            assert client.post(vote_url, {"voter": person.pk, "choice": choice}).status_code == 302
        again = client.post(vote_url, {"voter": people[0].pk, "choice": "no"})
        assert again.status_code == 200  # no longer offered as a voter: the form refuses
        assert Vote.objects.filter(motion=motion).count() == 3
        client.post(reverse("deliberation:motion_close", args=[motion.pk]))
        result = client.get(
            reverse("deliberation:motion_detail", args=[motion.pk])
        ).content.decode()
        assert "通过" in result
        assert "赞成2票，实际投票3，须超过半数：通过" in result

    def test_household_ballot_created_from_the_form(self, village, grid, village_clerk, login):
        households_with_adults(grid, 2)
        now = timezone.localtime()
        response = login(village_clerk).post(
            reverse("deliberation:ballot_create"),
            {
                "village": village.pk,
                "title": "屋场改造方案",
                "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
                "closes_at": (now + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
                "secret": "on",
            },
        )
        assert response.status_code == 302
        motion = Motion.objects.get()
        assert (motion.mode, motion.secret) == (Motion.Mode.HOUSEHOLD_BALLOT, True)


class TestMeetingForm:
    def test_invalid_form_keeps_input_and_shows_chinese_error(self, village, village_clerk, login):
        response = login(village_clerk).post(
            reverse("deliberation:meeting_create"),
            {
                "village": village.pk,
                "kind": "wuchang",
                "title": "刘家屋场会",
                "venue": "wuchang",
                "venue_name": "",
                "scheduled_at": "2030-01-01T19:00",
                "notice_text": "商量修路",
            },
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert "请填写屋场名称" in body
        assert 'value="刘家屋场会"' in body
        assert not Meeting.objects.exists()


class TestRuleVersionPages:
    def test_clerk_cannot_see_the_review_form(self, village, village_clerk, login):
        version = services.rule_version_create(
            actor=village_clerk, village=village, title="村规民约", articles=[("", "条文")]
        )
        services.rule_version_open_consultation(
            actor=village_clerk, version=version, until=timezone.localdate()
        )
        services.rule_version_submit_review(actor=village_clerk, version=version)
        client = login(village_clerk)
        page = client.get(reverse("deliberation:rule_version_detail", args=[version.pk]))
        assert "等待乡镇合法性审查" in page.content.decode()
        response = client.post(
            reverse("deliberation:rule_version_action", args=[version.pk, "review"]),
            {"review-decision": "approve", "review-opinion": ""},
        )
        assert response.status_code == 403
        assert RuleVersion.objects.get(pk=version.pk).status == RuleVersion.Status.REVIEW

    def test_township_returns_with_opinion_through_the_page(
        self, village, village_clerk, township_staff, login
    ):
        version = services.rule_version_create(
            actor=village_clerk, village=village, title="村规民约", articles=[("", "条文")]
        )
        services.rule_version_open_consultation(
            actor=village_clerk, version=version, until=timezone.localdate()
        )
        services.rule_version_submit_review(actor=village_clerk, version=version)
        url = reverse("deliberation:rule_version_action", args=[version.pk, "review"])
        client = login(township_staff)
        refused = client.post(url, {"review-decision": "return", "review-opinion": ""})
        assert "退回修改须写明审查意见" in refused.content.decode()
        client.post(url, {"review-decision": "return", "review-opinion": "罚款条款须删除"})
        version.refresh_from_db()
        assert (version.status, version.review_opinion) == ("drafting", "罚款条款须删除")


class TestPublicPages:
    def _populate(self, village, grid, clerk, township_staff):
        households_with_adults(grid, 3)
        RepresentativeFactory(grid=grid, resident__phone="13912345678", card_number="CDH-001")
        _in_force(clerk, township_staff, village, grid)
        meeting = services.meeting_create(
            actor=clerk,
            village=village,
            kind=Meeting.Kind.YEHUA,
            title="夜话乡村：人居环境整治",
            venue=Meeting.Venue.CORRIDOR,
            scheduled_at=timezone.now() + dt.timedelta(days=3),
            notice_text="请各户派代表参加",
            agenda=["垃圾分类"],
        )
        services.meeting_announce(actor=clerk, meeting=meeting)

    def test_board_shows_rules_meetings_results_and_representatives_but_no_phone(
        self, client, village, grid, village_clerk, township_staff
    ):
        self._populate(village, grid, village_clerk, township_staff)
        response = client.get(f"/p/{village.code}/")
        body = response.content.decode()
        assert response.status_code == 200
        assert "孝老爱亲" in body
        assert "夜话乡村：人居环境整治" in body
        assert "CDH-001" in body
        assert "表决通过《长东湖村村规民约》（第1版）" in body  # the adopting motion's result
        assert not PHONE.search(body), PHONE.search(body)
        assert "诉求办理情况" in body  # real counts from governance, no personal data

    def test_public_rules_and_article_pages(
        self, client, village, grid, village_clerk, township_staff
    ):
        self._populate(village, grid, village_clerk, township_staff)
        rules = client.get(f"/p/{village.code}/rules/").content.decode()
        assert "第1条" in rules and "子女应当赡养父母。" in rules
        article = client.get(f"/p/{village.code}/rules/2/")
        assert "红白喜事从简办理。" in article.content.decode()
        assert client.get(f"/p/{village.code}/rules/9/").status_code == 404
        assert not PHONE.search(rules)

    def test_article_page_lists_points_rules_that_cite_it(
        self, client, village, grid, village_clerk, township_staff
    ):
        from points.models import Category, PointsRule

        self._populate(village, grid, village_clerk, township_staff)
        article = RuleVersion.objects.get(status="in_force").articles.get(number=2)
        category = Category.objects.create(township=village.township, name="家庭美德", kind="moral")
        PointsRule.objects.create(
            township=village.township,
            village=village,
            code="JT-01",
            name="婚事新办",
            category=category,
            points=10,
            active_from=dt.date(2025, 1, 1),
            legal_basis=article,
        )
        body = client.get(f"/p/{village.code}/rules/2/").content.decode()
        assert 'id="article-points-rules"' in body

    def test_unknown_village_is_404(self, client, db):
        assert client.get("/p/999999999999/").status_code == 404

    def test_board_query_count_does_not_grow(
        self, client, village, grid, village_clerk, township_staff, django_assert_max_num_queries
    ):
        self._populate(village, grid, village_clerk, township_staff)
        with django_assert_max_num_queries(40):
            client.get(f"/p/{village.code}/")
        for n in range(5):
            RepresentativeFactory(grid=grid, card_number=f"X{n}")
        with django_assert_max_num_queries(40):
            assert client.get(f"/p/{village.code}/").status_code == 200

    def test_public_comment_on_a_draft(self, client, village, village_clerk):
        version = services.rule_version_create(
            actor=village_clerk, village=village, title="修订稿", articles=[("", "条文一")]
        )
        services.rule_version_open_consultation(
            actor=village_clerk, version=version, until=timezone.localdate()
        )
        url = f"/p/{village.code}/consultation/{version.pk}/"
        article = version.articles.get()
        response = client.post(url, {"article": article.pk, "author_name": "赵六", "text": "赞同"})
        assert response.status_code == 302
        assert article.comments.get().author_name == "赵六"


@pytest.mark.parametrize(
    "name",
    ["body_list", "meeting_list", "meeting_create", "ballot_create", "rule_version_list"],
)
def test_staff_pages_forbidden_to_a_stranger(name, stranger, login):
    assert login(stranger).get(reverse(f"deliberation:{name}")).status_code == 403


class TestCommitmentsPage:
    def test_representative_ticks_households_that_signed(
        self, village, grid, representative, township_staff, login
    ):
        clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)
        version = _in_force(clerk, township_staff, village, grid)
        mine = list(representative.households.order_by("pk"))
        client = login(representative.user)
        page = client.get(reverse("deliberation:commitments")).content.decode()
        assert f'value="{mine[0].pk}"' in page
        response = client.post(
            reverse("deliberation:commitments"),
            {"household": [mine[0].pk, mine[1].pk], "signed_on": timezone.localdate().isoformat()},
        )
        assert response.status_code == 302
        assert set(version.commitments.values_list("household_id", flat=True)) == {
            mine[0].pk,
            mine[1].pk,
        }
        assert "已签署 2/6 户" in client.get(reverse("deliberation:commitments")).content.decode()


def test_representative_passes_on_a_comment_from_the_consultation_page(
    village, representative, login
):
    clerk = user_with_scope(Role.VILLAGE_STAFF, village=village)
    version = services.rule_version_create(
        actor=clerk, village=village, title="修订稿", articles=[("", "条文一")]
    )
    services.rule_version_open_consultation(
        actor=clerk, version=version, until=timezone.localdate()
    )
    household = representative.households.first()
    article = version.articles.get()
    response = login(representative.user).post(
        f"/p/{village.code}/consultation/{version.pk}/",
        {
            "article": article.pk,
            "author_name": "钱七",
            "text": "建议增加",
            "household": household.pk,
        },
    )
    assert response.status_code == 302
    comment = article.comments.get()
    assert (comment.channel, comment.household, comment.recorded_by) == (
        "representative",
        household,
        representative.user,
    )


def _png_upload(name="photo.png"):
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (2000, 1500), (40, 120, 60)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_meeting_photo_is_uploaded_shrunk_and_shown(village, village_clerk, login):
    from deliberation.models import MeetingPhoto

    meeting = _wuchang(village_clerk, village)
    client = login(village_clerk)
    url = reverse("deliberation:meeting_photo_add", args=[meeting.pk])
    response = client.post(url, {"photo": _png_upload(), "caption": "屋场会现场"})
    assert response.status_code == 302
    photo = MeetingPhoto.objects.get(meeting=meeting)
    assert photo.image.name.endswith(".jpg") and photo.image.width == 1280
    detail = client.get(reverse("deliberation:meeting_detail", args=[meeting.pk])).content.decode()
    assert photo.image.url in detail and "屋场会现场" in detail


def test_meeting_photo_that_is_not_an_image_is_refused(village, village_clerk, login):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from deliberation.models import MeetingPhoto

    meeting = _wuchang(village_clerk, village)
    response = login(village_clerk).post(
        reverse("deliberation:meeting_photo_add", args=[meeting.pk]),
        {"photo": SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")},
    )
    assert response.status_code == 200
    assert not MeetingPhoto.objects.exists()


def _count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _add_meetings_with_votes(clerk, village, grid, n):
    for _ in range(n):
        people = list(Resident.objects.filter(household__in=households_with_adults(grid, 2)))
        meeting = _wuchang(clerk, village)
        services.attendance_set(actor=clerk, meeting=meeting, resident_ids=[p.pk for p in people])
        motion = services.motion_create(actor=clerk, village=village, meeting=meeting, title="事项")
        services.motion_open(actor=clerk, motion=motion)
        for person in people:
            services.vote_cast(actor=clerk, motion=motion, resident=person, choice="yes")
        services.meeting_conclude(actor=clerk, meeting=meeting, resolutions="同意")
    services.rule_version_create(
        actor=clerk, village=village, title=f"草案{n}", articles=[("", "条文")] * 3
    )


@pytest.mark.parametrize(
    "name", ["meeting_list", "body_list", "rule_version_list", "board", "commitments"]
)
def test_page_query_count_does_not_grow_with_rows(name, village, grid, village_clerk, login):
    services.village_bodies_ensure(village=village, actor=village_clerk)
    client = login(village_clerk)
    url = {
        "board": f"/p/{village.code}/",
        "commitments": reverse("deliberation:commitments"),
    }.get(name) or reverse(f"deliberation:{name}")
    _add_meetings_with_votes(village_clerk, village, grid, 1)
    small = _count_queries(client, url)
    _add_meetings_with_votes(village_clerk, village, grid, 4)
    assert _count_queries(client, url) == small


def test_board_leaves_out_motions_of_cancelled_meetings(client, village, village_clerk):
    meeting = _wuchang(village_clerk, village)
    services.motion_create(
        actor=village_clerk, village=village, meeting=meeting, title="被取消的事项"
    )
    services.meeting_cancel(actor=village_clerk, meeting=meeting, reason="暴雨")
    body = client.get(f"/p/{village.code}/").content.decode()
    assert "被取消的事项" not in body
    assert "暂无表决结果" in body


def test_public_comments_are_throttled_per_address(client, village, village_clerk):
    from deliberation.views import COMMENTS_PER_HOUR_PER_ADDRESS

    version = services.rule_version_create(
        actor=village_clerk, village=village, title="修订稿", articles=[("", "条文一")]
    )
    services.rule_version_open_consultation(
        actor=village_clerk, version=version, until=timezone.localdate()
    )
    article = version.articles.get()
    url = f"/p/{village.code}/consultation/{version.pk}/"
    data = {"article": article.pk, "author_name": "孙八", "text": "意见"}
    for _ in range(COMMENTS_PER_HOUR_PER_ADDRESS):
        assert client.post(url, data).status_code == 302
    refused = client.post(url, data)
    assert "提交过于频繁" in refused.content.decode()
    assert article.comments.count() == COMMENTS_PER_HOUR_PER_ADDRESS


def _open_consultation(village, village_clerk):
    version = services.rule_version_create(
        actor=village_clerk, village=village, title="修订稿", articles=[("", "条文一")]
    )
    services.rule_version_open_consultation(
        actor=village_clerk, version=version, until=timezone.localdate()
    )
    return version, f"/p/{village.code}/consultation/{version.pk}/"


def test_comment_allowance_is_per_browser_behind_the_proxy(
    client, village, village_clerk, settings
):
    # Given nginx in front: every request arrives from the proxy's own address
    from deliberation.views import COMMENTS_PER_HOUR_PER_ADDRESS

    settings.TRUSTED_PROXY_COUNT = 1
    version, url = _open_consultation(village, village_clerk)
    data = {"article": version.articles.get().pk, "author_name": "孙八", "text": "意见"}
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    # When one villager uses up the hour's allowance
    for _ in range(COMMENTS_PER_HOUR_PER_ADDRESS):
        sent = client.post(url, data, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
        assert sent.status_code == 302
    refused = client.post(url, data, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)

    # Then only they are refused; a neighbour behind the same proxy can still comment
    assert "提交过于频繁" in refused.content.decode()
    other = client.post(url, data, HTTP_X_FORWARDED_FOR="203.0.113.6", **proxy)
    assert other.status_code == 302


def test_a_forged_forwarded_header_does_not_reset_the_allowance(client, village, village_clerk):
    # Given no trusted proxy (the default): the header is the client's own word
    from deliberation.views import COMMENTS_PER_HOUR_PER_ADDRESS

    version, url = _open_consultation(village, village_clerk)
    data = {"article": version.articles.get().pk, "author_name": "孙八", "text": "意见"}
    for n in range(COMMENTS_PER_HOUR_PER_ADDRESS):
        client.post(url, data, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    # When the same browser claims yet another address
    refused = client.post(url, data, HTTP_X_FORWARDED_FOR="198.51.100.99")

    # Then it is still refused
    assert "提交过于频繁" in refused.content.decode()


def test_every_staff_page_renders_for_the_village_clerk(
    village, grid, village_clerk, township_staff, login
):
    """Given a village with a rule in force, a held meeting and a draft: each page renders."""
    services.village_bodies_ensure(village=village, actor=village_clerk)
    version = _in_force(village_clerk, township_staff, village, grid)
    draft = services.rule_version_create(
        actor=village_clerk, village=village, title="修订稿", articles=[("", "条文")]
    )
    motion = version.adopted_by
    meeting = motion.meeting
    body = meeting.body
    client = login(village_clerk)
    urls = [
        reverse("deliberation:body_list"),
        reverse("deliberation:body_detail", args=[body.pk]),
        reverse("deliberation:body_detail", args=[standard_body_pk(village)]),
        reverse("deliberation:body_create"),
        reverse("deliberation:meeting_list"),
        reverse("deliberation:meeting_create"),
        reverse("deliberation:meeting_detail", args=[meeting.pk]),
        reverse("deliberation:meeting_attendance", args=[meeting.pk]),
        reverse("deliberation:meeting_photo_add", args=[meeting.pk]),
        reverse("deliberation:motion_detail", args=[motion.pk]),
        reverse("deliberation:motion_vote", args=[motion.pk]),
        reverse("deliberation:ballot_create"),
        reverse("deliberation:rule_version_list"),
        reverse("deliberation:rule_version_create"),
        reverse("deliberation:rule_version_detail", args=[version.pk]),
        reverse("deliberation:rule_version_detail", args=[draft.pk]),
        reverse("deliberation:rule_version_print", args=[version.pk]),
        reverse("deliberation:commitments"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "请填写" not in response.content.decode(), url  # no bound form on a GET


def standard_body_pk(village):
    from deliberation.models import Body

    return Body.objects.get(village=village, kind="moral_council").pk


# Per-response tokens, which differ between two renderings of the same page.
TOKENS = re.compile(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"')


class TestSecretBallotPage:
    def _open_secret_ballot(self, village, grid, clerk):
        households = households_with_adults(grid, 3)
        motion = services.motion_create(
            actor=clerk,
            village=village,
            title="屋场改造方案",
            secret=True,
            opens_at=timezone.now() - dt.timedelta(hours=1),
            closes_at=timezone.now() + dt.timedelta(days=3),
        )
        services.motion_open(actor=clerk, motion=motion)
        return motion, households

    def test_open_secret_ballot_page_shows_only_how_many_voted(
        self, village, grid, village_clerk, login
    ):
        # Given an open secret household ballot, and the result page read after each vote
        motion, households = self._open_secret_ballot(village, grid, village_clerk)
        client = login(village_clerk)
        url = reverse("deliberation:motion_detail", args=[motion.pk])
        pages = []
        for household, choice in zip(households, ["yes", "no", "abstain"], strict=True):
            services.vote_cast(
                actor=village_clerk, motion=motion, household=household, choice=choice
            )
            pages.append(TOKENS.sub("", client.get(url).content.decode()))
        # Then each page says how many voted and nothing else changes from one vote to the next
        for count, page in enumerate(pages, start=1):
            assert f"已投票 {count} 票" in page
            assert "tally-figure" not in page and "赞成" not in page
        assert pages[0].replace("已投票 1 票", "") == pages[1].replace("已投票 2 票", "")
        # And the vote page shows the count only
        vote_page = client.get(reverse("deliberation:motion_vote", args=[motion.pk]))
        assert "已投 3 票" in vote_page.content.decode()
        assert "tally" not in vote_page.context

    def test_tallies_appear_once_the_secret_ballot_is_closed(
        self, village, grid, village_clerk, login
    ):
        motion, households = self._open_secret_ballot(village, grid, village_clerk)
        for household, choice in zip(households, ["yes", "yes", "no"], strict=True):
            services.vote_cast(
                actor=village_clerk, motion=motion, household=household, choice=choice
            )
        services.motion_close(actor=village_clerk, motion=motion)
        page = (
            login(village_clerk)
            .get(reverse("deliberation:motion_detail", args=[motion.pk]))
            .content.decode()
        )
        assert "赞成2票，实际投票户数3，须超过半数：通过" in page

    def test_open_named_ballot_keeps_its_running_tally(self, village, grid, village_clerk, login):
        """A named (记名) vote lists who chose what anyway; its running tally reveals nothing."""
        households = households_with_adults(grid, 2)
        motion = services.motion_create(
            actor=village_clerk,
            village=village,
            title="公开表决",
            opens_at=timezone.now() - dt.timedelta(hours=1),
            closes_at=timezone.now() + dt.timedelta(days=3),
        )
        services.motion_open(actor=village_clerk, motion=motion)
        services.vote_cast(
            actor=village_clerk, motion=motion, household=households[0], choice="yes"
        )
        page = (
            login(village_clerk)
            .get(reverse("deliberation:motion_detail", args=[motion.pk]))
            .content.decode()
        )
        assert "当前计票" in page and "记名投票明细" in page

    def test_ballot_not_yet_open_says_when_it_opens(self, village, grid, village_clerk, login):
        households_with_adults(grid, 1)
        opens = timezone.now() + dt.timedelta(days=1)
        motion = services.motion_create(
            actor=village_clerk,
            village=village,
            title="改造方案",
            opens_at=opens,
            closes_at=opens + dt.timedelta(days=2),
        )
        services.motion_open(actor=village_clerk, motion=motion)
        page = (
            login(village_clerk)
            .get(reverse("deliberation:motion_vote", args=[motion.pk]))
            .content.decode()
        )
        assert "表决尚未开始" in page and "记录这一票" not in page


class TestMeetingRequests:
    def test_meeting_page_lists_the_requests_it_dealt_with(
        self, village, grid, other_grid, representative, village_clerk, login
    ):
        from governance import services as governance
        from tests.governance.factories import report

        # Given a 屋场会 that dealt with a request of the first grid
        meeting = _wuchang(village_clerk, village)
        request = report(representative, title="邻里排水纠纷")
        governance.request_link_meeting(actor=village_clerk, request=request, meeting=meeting)
        url = reverse("deliberation:meeting_detail", args=[meeting.pk])
        # Then the village clerk sees it with a link to the request page
        page = login(village_clerk).get(url).content.decode()
        assert "邻里排水纠纷" in page
        assert reverse("staff:request_detail", args=[request.pk]) in page
        # and the grid leader of the first grid sees it; of another grid, the meeting only
        leader = user_with_scope(Role.GRID_LEADER, grid=grid)
        other_leader = user_with_scope(Role.GRID_LEADER, grid=other_grid)
        assert "邻里排水纠纷" in login(leader).get(url).content.decode()
        other = login(other_leader).get(url)
        assert other.status_code == 200 and "邻里排水纠纷" not in other.content.decode()

    def test_meeting_page_query_count_does_not_grow_with_requests(
        self, village, representative, village_clerk, login
    ):
        from governance import services as governance
        from tests.governance.factories import report

        meeting = _wuchang(village_clerk, village)
        client = login(village_clerk)
        url = reverse("deliberation:meeting_detail", args=[meeting.pk])

        def link(n):
            for i in range(n):
                request = report(representative, title=f"诉求{i}")
                governance.request_link_meeting(
                    actor=village_clerk, request=request, meeting=meeting
                )

        link(1)
        small = _count_queries(client, url)
        link(4)
        assert _count_queries(client, url) == small


class TestAgendaAndMembershipPages:
    def test_agenda_item_added_from_the_meeting_page(self, village, village_clerk, login):
        meeting = _wuchang(village_clerk, village)
        client = login(village_clerk)
        url = reverse("deliberation:meeting_detail", args=[meeting.pk])
        refused = client.post(url, {"agenda-title": "", "agenda-description": "说明留着"})
        assert refused.status_code == 200
        assert "说明留着" in refused.content.decode()  # kept, with the error
        assert client.post(url, {"agenda-title": "垃圾分类"}).status_code == 302
        assert list(meeting.agenda_items.values_list("position", "title")) == [
            (1, "议题一"),
            (2, "垃圾分类"),
        ]
        assert "垃圾分类" in client.get(url).content.decode()

    def test_held_meeting_offers_no_agenda_form_and_refuses_a_post(
        self, village, village_clerk, login
    ):
        meeting = _wuchang(village_clerk, village)
        services.meeting_conclude(actor=village_clerk, meeting=meeting, minutes="记录")
        client = login(village_clerk)
        url = reverse("deliberation:meeting_detail", args=[meeting.pk])
        assert "agenda-title" not in client.get(url).content.decode()
        refused = client.post(url, {"agenda-title": "补充议题"})
        assert "会议已结束或已取消" in refused.content.decode()
        assert meeting.agenda_items.count() == 1

    def test_chair_replaced_from_the_body_page(self, village, grid, village_clerk, login):
        from deliberation.models import Membership

        services.village_bodies_ensure(village=village, actor=village_clerk)
        body_pk = standard_body_pk(village)
        old, new = Resident.objects.filter(household__in=households_with_adults(grid, 2))
        from deliberation.models import Body

        body = Body.objects.get(pk=body_pk)
        chair = services.membership_add(actor=village_clerk, body=body, resident=old, role="chair")
        client = login(village_clerk)
        url = reverse("deliberation:body_detail", args=[body_pk])
        page = client.get(url).content.decode()
        assert "办理退出" in page
        today = timezone.localdate().isoformat()
        ended = client.post(url, {"end-membership": chair.pk, "end-left_on": today})
        assert ended.status_code == 302
        added = client.post(url, {"resident": new.pk, "role": "chair"})
        assert added.status_code == 302
        active = Membership.objects.filter(body=body, left_on__isnull=True, role="chair")
        assert list(active.values_list("resident_id", flat=True)) == [new.pk]

    def test_other_village_body_page_is_404(self, village, other_village, login):
        clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
        services.village_bodies_ensure(village=village, actor=None)
        url = reverse("deliberation:body_detail", args=[standard_body_pk(village)])
        assert (
            login(clerk).post(url, {"end-membership": 1, "end-left_on": "2026-01-01"}).status_code
            == 404
        )


class TestPutToVotePage:
    def test_approved_version_is_put_to_an_assembly_meeting_and_adopted(
        self, village, grid, village_clerk, township_staff, login
    ):
        # Given an approved version, a road vote already taken, and a 村民会议 announced
        from deliberation.models import BodyKind
        from tests.deliberation.factories import standard_body
        from tests.deliberation.test_rules import _approved

        version = _approved(village_clerk, township_staff, village)
        services.village_bodies_ensure(village=village, actor=village_clerk)
        assembly = standard_body(village, BodyKind.VILLAGERS_ASSEMBLY)
        meeting = open_meeting(village_clerk, village, body=assembly, title="村民会议")
        client = login(village_clerk)
        url = reverse("deliberation:rule_version_detail", args=[version.pk])
        page = client.get(url).content.decode()
        assert "提交村民会议表决" in page and "还没有已结束的村民会议表决" in page
        # When the clerk puts it to the meeting from the version page
        response = client.post(
            reverse("deliberation:rule_version_action", args=[version.pk, "vote"]),
            {"vote-meeting": meeting.pk},
        )
        motion = Motion.objects.get(rule_version=version)
        assert response.status_code == 302 and response["Location"].endswith(f"/{motion.pk}/")
        assert motion.meeting == meeting and "第1版" in motion.title

    def test_version_cannot_be_put_to_a_meeting_that_is_not_the_assembly(
        self, village, village_clerk, township_staff, login
    ):
        from tests.deliberation.test_rules import _approved

        version = _approved(village_clerk, township_staff, village)
        wuchang = _wuchang(village_clerk, village)
        response = login(village_clerk).post(
            reverse("deliberation:rule_version_action", args=[version.pk, "vote"]),
            {"vote-meeting": wuchang.pk},
        )
        assert response.status_code == 200
        assert not Motion.objects.filter(rule_version=version).exists()


YEARS_OUT_OF_RANGE = ["0001", "1999", "2101", "9999"]


class TestBadDatesAndNumbers:
    """Dates and numbers typed into forms: a clear message, never a 500."""

    @pytest.mark.parametrize("year", YEARS_OUT_OF_RANGE)
    def test_meeting_time_out_of_range(self, year, village, village_clerk, login):
        response = login(village_clerk).post(
            reverse("deliberation:meeting_create"),
            {
                "village": village.pk,
                "kind": "yehua",
                "title": "夜话乡村",
                "venue": "courtyard",
                "scheduled_at": f"{year}-01-01T00:00",
                "notice_text": "通知",
            },
        )
        assert response.status_code == 200
        assert "请填写2000年至2100年之间的日期" in response.content.decode()
        assert not Meeting.objects.exists()

    @pytest.mark.parametrize("value", ["0000-01-01T00:00", "2030-13-01T00:00", "明天晚上"])
    def test_meeting_time_not_a_date(self, value, village, village_clerk, login):
        response = login(village_clerk).post(
            reverse("deliberation:meeting_create"),
            {
                "village": village.pk,
                "kind": "yehua",
                "title": "夜话乡村",
                "venue": "courtyard",
                "scheduled_at": value,
                "notice_text": "通知",
            },
        )
        assert response.status_code == 200
        assert not Meeting.objects.exists()

    @pytest.mark.parametrize("year", YEARS_OUT_OF_RANGE)
    def test_ballot_period_out_of_range(self, year, village, village_clerk, login):
        response = login(village_clerk).post(
            reverse("deliberation:ballot_create"),
            {
                "village": village.pk,
                "title": "改造方案",
                "opens_at": f"{year}-01-01T00:00",
                "closes_at": f"{year}-12-31T23:59",
            },
        )
        assert response.status_code == 200
        assert "请填写2000年至2100年之间的日期" in response.content.decode()
        assert not Motion.objects.exists()

    @pytest.mark.parametrize("year", YEARS_OUT_OF_RANGE)
    def test_rule_dates_out_of_range(self, year, village, grid, village_clerk, login):
        draft = services.rule_version_create(
            actor=village_clerk, village=village, title="草案", articles=[("", "条文")]
        )
        client = login(village_clerk)
        response = client.post(
            reverse("deliberation:rule_version_action", args=[draft.pk, "consultation"]),
            {"consultation-until": f"{year}-06-01"},
        )
        assert response.status_code == 200
        assert "请填写2000年至2100年之间的日期" in response.content.decode()
        assert RuleVersion.objects.get(pk=draft.pk).status == RuleVersion.Status.DRAFTING

    @pytest.mark.parametrize("year", YEARS_OUT_OF_RANGE)
    def test_commitment_and_leaving_dates_out_of_range(
        self, year, village, grid, village_clerk, township_staff, login
    ):
        version = _in_force(village_clerk, township_staff, village, grid)
        client = login(village_clerk)
        household = version.rule.village.households.first()
        response = client.post(
            reverse("deliberation:commitments"),
            {"household": [household.pk], "signed_on": f"{year}-01-01"},
        )
        assert response.status_code == 200
        assert "请填写2000年至2100年之间的日期" in response.content.decode()
        assert not version.commitments.exists()
        body = version.adopted_by.meeting.body
        moral = standard_body_pk(village)
        from deliberation.models import Body

        services.membership_add(
            actor=village_clerk,
            body=Body.objects.get(pk=moral),
            resident=Resident.objects.filter(household__village=village).first(),
        )
        ended = client.post(
            reverse("deliberation:body_detail", args=[moral]),
            {
                "end-membership": Body.objects.get(pk=moral).memberships.get().pk,
                "end-left_on": f"{year}-01-01",
            },
        )
        assert ended.status_code == 200 and body.pk != moral
        assert "请填写2000年至2100年之间的日期" in ended.content.decode()

    @pytest.mark.parametrize("number", ["99999999999999999999", "²", "0", "1000"])
    def test_article_number_out_of_range(self, number, village, village_clerk, login):
        draft = services.rule_version_create(
            actor=village_clerk, village=village, title="草案", articles=[("", "条文")]
        )
        response = login(village_clerk).post(
            reverse("deliberation:rule_version_action", args=[draft.pk, "article"]),
            {"article-number": number, "article-text": "新条文"},
        )
        assert response.status_code == 200
        assert draft.articles.count() == 1

    @pytest.mark.parametrize("pk", ["99999999999999999999", "9223372036854775808"])
    def test_public_pages_with_huge_ids_are_404(self, pk, client, village):
        assert client.get(f"/p/{village.code}/consultation/{pk}/").status_code == 404
        assert client.get(f"/p/{village.code}/rules/9999/").status_code == 404


def test_member_form_proposes_member_not_chair(village, village_clerk, login):
    """A clerk adding the second member must not be refused for a 会长 they did not choose."""
    services.village_bodies_ensure(village=village, actor=village_clerk)
    page = (
        login(village_clerk)
        .get(reverse("deliberation:body_detail", args=[standard_body_pk(village)]))
        .content.decode()
    )
    assert re.search(r'<option value="member"\s+selected>', page)


def test_household_ballot_can_be_found_again_on_the_meetings_page(
    village, other_village, village_clerk, login
):
    """A ballot has no meeting; the meetings page lists it (open ones first), in scope only."""
    now = timezone.now()

    def ballot(village, clerk, title):
        return services.motion_create(
            actor=clerk,
            village=village,
            title=title,
            opens_at=now,
            closes_at=now + dt.timedelta(days=3),
        )

    mine = ballot(village, village_clerk, "屋场改造方案")
    other_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
    ballot(other_village, other_clerk, "别村的表决")
    page = login(village_clerk).get(reverse("deliberation:meeting_list")).content.decode()
    assert reverse("deliberation:motion_detail", args=[mine.pk]) in page
    assert "屋场改造方案" in page and "别村的表决" not in page
