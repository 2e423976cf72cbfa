"""Points rules: the legal basis is an article of the village's own adopted rules; updates."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from deliberation import services as deliberation_services
from deliberation.models import RuleVersion
from points import services
from points.models import PointsRule
from tests.deliberation.test_rules import _in_force
from tests.points.factories import category_for, make_rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_force_article(village, grid, village_clerk, township_staff):
    """Article 2 (移风易俗) of the village's rules in force."""
    version = _in_force(village_clerk, township_staff, village, grid)
    return version.articles.get(number=2)


def test_village_rule_cites_an_article_of_its_own_rules_in_force(
    village, village_clerk, in_force_article
):
    rule = make_rule(village, village_clerk, name="婚事新办", legal_basis=in_force_article)
    assert PointsRule.objects.get(pk=rule.pk).legal_basis == in_force_article


def test_rule_citing_another_villages_article_is_refused(
    other_village, township_staff, in_force_article
):
    with pytest.raises(ValidationError, match="必须是本村村规民约的条款"):
        make_rule(other_village, township_staff, legal_basis=in_force_article)
    assert not PointsRule.objects.filter(village=other_village).exists()


def test_rule_citing_a_draft_article_is_refused(village, village_clerk):
    draft = deliberation_services.rule_version_create(
        actor=village_clerk, village=village, title="修订稿", articles=[("", "不得大操大办")]
    )
    assert draft.status == RuleVersion.Status.DRAFTING
    with pytest.raises(ValidationError, match="尚未经村民会议通过或已废止"):
        make_rule(village, village_clerk, legal_basis=draft.articles.get())
    assert not PointsRule.objects.exists()


def test_township_template_cannot_cite_an_article(township, township_staff, in_force_article):
    with pytest.raises(ValidationError, match="乡镇模板不能引用村规民约条款"):
        services.rule_create(
            actor=township_staff,
            township=township,
            category=category_for(township, township_staff),
            code="T01",
            name="婚事新办",
            points=10,
            active_from=dt.date(2026, 1, 1),
            legal_basis=in_force_article,
        )
    assert not PointsRule.objects.exists()


def test_rule_update_checks_the_legal_basis_too(
    village, other_village, grid, village_clerk, township_staff, in_force_article
):
    rule = make_rule(village, village_clerk)
    services.rule_update(actor=village_clerk, rule=rule, changes={"legal_basis": in_force_article})
    assert PointsRule.objects.get(pk=rule.pk).legal_basis == in_force_article
    theirs = make_rule(other_village, township_staff)
    with pytest.raises(ValidationError, match="必须是本村村规民约的条款"):
        services.rule_update(
            actor=township_staff, rule=theirs, changes={"legal_basis": in_force_article}
        )
    assert PointsRule.objects.get(pk=theirs.pk).legal_basis is None


def test_rule_update_is_refused_outside_the_users_village(other_village, village_clerk):
    from grids.models import Role
    from tests.factories import user_with_scope

    other_clerk = user_with_scope(Role.VILLAGE_STAFF, village=other_village)
    theirs = make_rule(other_village, other_clerk)
    with pytest.raises(ValidationError, match="没有管理该村积分的权限"):
        services.rule_update(actor=village_clerk, rule=theirs, changes={"points": 99})
    assert PointsRule.objects.get(pk=theirs.pk).points == 20


def test_rule_update_cannot_move_a_rule_to_another_village(village, other_village, village_clerk):
    rule = make_rule(village, village_clerk)
    with pytest.raises(ValidationError, match="不能修改"):
        services.rule_update(actor=village_clerk, rule=rule, changes={"village": other_village})
    assert PointsRule.objects.get(pk=rule.pk).village == village


def test_template_of_another_township_cannot_be_made_or_copied(township, township_staff, village):
    from grids.models import Role
    from tests.factories import TownshipFactory, user_with_scope

    outsider = user_with_scope(Role.TOWNSHIP_STAFF, township=TownshipFactory())
    category = category_for(township, township_staff)
    with pytest.raises(ValidationError, match="只有本乡镇的乡镇干部"):
        services.rule_create(
            actor=outsider,
            township=township,
            category=category,
            code="T01",
            name="垃圾分类",
            points=20,
            active_from=dt.date(2026, 1, 1),
        )
    template = services.rule_create(
        actor=township_staff,
        township=township,
        category=category,
        code="T01",
        name="垃圾分类",
        points=20,
        active_from=dt.date(2026, 1, 1),
    )
    with pytest.raises(ValidationError, match="只有本乡镇的乡镇干部"):
        services.rule_copy_to_villages(actor=outsider, template=template)
    assert not PointsRule.objects.filter(village__isnull=False).exists()
