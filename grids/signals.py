"""Signals other apps listen to. Sent by grids services inside their transaction."""

from django.dispatch import Signal

# Sent with ``village`` and ``actor`` after a village is created, so that apps further up
# (deliberation's 一约四会 bodies) can set it up in the same transaction without grids
# depending on them.
village_created = Signal()

# Sent with ``village``, ``party_secretary`` (a Resident) and ``actor`` when the village Party
# secretary (总网格长) is recorded: deliberation makes them 会长 of the 一约四会 without a chair.
party_secretary_changed = Signal()
