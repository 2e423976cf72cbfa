"""Admin actions with garbled selections: a Chinese message, not an error page."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("selected", ["", "abc", "1.5", "²", str(10**20)])
def test_garbled_selected_ids_are_refused_with_a_message(login, selected):
    # Given a superuser on the accounts list, and an account that could be deleted
    superuser = UserFactory(is_superuser=True, is_staff=True)
    other = UserFactory()
    accounts = get_user_model().objects.count()

    # When the action form arrives with a selection that is not an id
    response = login(superuser).post(
        reverse("admin:grids_user_changelist"),
        {"action": "delete_selected", "index": "0", "_selected_action": [selected]},
        follow=True,
    )

    # Then the list is shown again with the reason, and nothing was deleted
    assert response.status_code == 200
    assert "所选条目无效" in response.content.decode()
    assert get_user_model().objects.count() == accounts
    assert get_user_model().objects.filter(pk=other.pk).exists()


def test_well_formed_ids_among_garbled_ones_still_reach_the_action(login):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    other = UserFactory()

    response = login(superuser).post(
        reverse("admin:grids_user_changelist"),
        {"action": "delete_selected", "index": "0", "_selected_action": ["x", str(other.pk)]},
    )

    # Django's confirmation page for the one real account
    assert response.status_code == 200
    assert f'value="{other.pk}"' in response.content.decode()
