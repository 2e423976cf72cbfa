from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _village_bodies_on_create(sender, *, village, actor, **kwargs) -> None:
    from .services import village_bodies_ensure

    village_bodies_ensure(village=village, actor=actor, chair=kwargs.get("party_secretary"))


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("议事协商与村规民约")

    def ready(self) -> None:
        from grids.signals import village_created

        village_created.connect(
            _village_bodies_on_create, dispatch_uid="deliberation_village_bodies"
        )
