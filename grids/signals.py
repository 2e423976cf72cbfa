"""Signals other apps listen to. Sent by grids services inside their transaction."""

from django.dispatch import Signal

# Sent with ``village`` and ``actor`` after a village is created, so that apps further up
# (deliberation's 一约四会 bodies) can set it up in the same transaction without grids
# depending on them.
village_created = Signal()
