"""Ids and months typed into query strings and forms: a garbled value is ignored or refused, never
a server error (``'²'.isdigit()`` is true but ``int('²')`` raises)."""

import pytest
from django.urls import reverse

from governance.models import WorkList
from tests.governance.factories import report


@pytest.mark.parametrize("value", ["²", "１２", "9" * 30, "-1", "1.5"])
@pytest.mark.parametrize(
    "name, args",
    [
        ("staff:request_list", []),
        ("staff:request_export", ["csv"]),
        ("staff:service_day", []),
    ],
)
def test_garbled_village_in_query_string_is_ignored(name, args, value, village_clerk, login):
    response = login(village_clerk).get(reverse(name, args=args), {"village": value})
    assert response.status_code == 200


@pytest.mark.parametrize("month", ["２０２６-11", "99999999999-01", "2026-13", "2026-²"])
def test_garbled_work_list_month_is_a_form_error(month, village_clerk, village, login):
    response = login(village_clerk).post(
        reverse("staff:work_lists"),
        {
            "village": village.pk,
            "month": month,
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "0",
            "form-0-title": "走访独居老人",
            "form-0-per_household": "on",
        },
    )
    assert response.status_code == 200
    assert "月份格式应为 2026-11" in response.content.decode()
    assert not WorkList.objects.exists()


def test_huge_original_number_for_a_duplicate_is_a_form_error(representative, village_clerk, login):
    request = report(representative)
    response = login(village_clerk).post(
        reverse("staff:request_action", args=[request.pk, "duplicate"]), {"original": "9" * 30}
    )
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.status == "reported"
