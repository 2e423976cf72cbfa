"""The public village board shows the village's request-handling figures, counts only."""

import pytest
from django.urls import reverse

from governance import services
from governance.selectors import public_request_figures
from tests.factories import GridFactory, representative_user
from tests.governance.factories import report, resolved

pytestmark = pytest.mark.django_db


def test_board_figures_count_this_years_requests(
    village, other_village, representative, village_clerk
):
    happy = resolved(representative, village_clerk)
    services.return_visit_record(actor=representative.user, request=happy, satisfaction="satisfied")
    unhappy = resolved(representative, village_clerk)
    services.return_visit_record(
        actor=representative.user, request=unhappy, satisfaction="unsatisfied"
    )
    report(representative)
    report(representative_user(GridFactory(village=other_village), households=1))

    figures = public_request_figures(village_id=village.pk)

    assert (figures.received, figures.resolved, figures.resolved_in_grid) == (
        3,
        1,
        1,
    )  # the unsatisfied one was reopened
    assert figures.satisfaction_percent == 50


def test_public_board_renders_figures_without_personal_data(client, village, representative):
    report(representative, title="13812345678 的诉求")

    page = client.get(reverse("deliberation:public_board", args=[village.code])).content.decode()

    assert "诉求办理情况" in page
    assert "13812345678" not in page
