import pytest

from tests.factories import user_with_scope


@pytest.fixture
def second_clerk(village):
    """Another village cadre: claims need an approver who is not the submitter."""
    from grids.models import Role

    return user_with_scope(Role.VILLAGE_STAFF, village=village, is_staff=True)
