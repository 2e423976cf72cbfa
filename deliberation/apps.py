from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _village_bodies_on_create(sender, *, village, actor, **kwargs) -> None:
    from .services import village_bodies_ensure

    village_bodies_ensure(village=village, actor=actor, chair=kwargs.get("party_secretary"))


def _village_bodies_on_party_secretary(
    sender, *, village, party_secretary, actor, **kwargs
) -> None:
    """The new 总网格长 chairs every 一约四会 body of the village that has no chair in office."""
    from .services import village_bodies_ensure

    village_bodies_ensure(village=village, actor=actor, chair=party_secretary)


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("议事协商与村规民约")

    def ready(self) -> None:
        from grids.signals import party_secretary_changed, village_created

        village_created.connect(
            _village_bodies_on_create, dispatch_uid="deliberation_village_bodies"
        )
        party_secretary_changed.connect(
            _village_bodies_on_party_secretary,
            dispatch_uid="deliberation_village_bodies_party_secretary",
        )
