"""Who may see which part of the tree. Every selector in every app filters through a UserScope.

Deny by default: a user without a Scope row (and not a superuser) sees nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Q, QuerySet

from .models import Grid, Household, Representative, Role, Scope, Village

NOTHING = Q(pk__in=[])


def _join(path: str, field: str) -> str:
    """Lookup ``field`` through ``path`` ("" means the model itself)."""
    return f"{path}__{field}" if path else field


def _id(path: str) -> str:
    return f"{path}_id" if path else "pk"


@dataclass(frozen=True)
class UserScope:
    user_id: int | None
    is_superuser: bool
    role: str | None
    township_id: int | None
    village_id: int | None
    grid_id: int | None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def is_staff_role(self) -> bool:
        return self.is_superuser or self.role in {
            Role.TOWNSHIP_STAFF,
            Role.VILLAGE_STAFF,
            Role.GRID_LEADER,
        }

    @property
    def is_township(self) -> bool:
        return self.is_superuser or self.role == Role.TOWNSHIP_STAFF

    @property
    def is_village_staff(self) -> bool:
        return self.role == Role.VILLAGE_STAFF

    @property
    def is_representative(self) -> bool:
        return self.role == Role.REPRESENTATIVE

    @property
    def is_department_handler(self) -> bool:
        return self.role == Role.DEPARTMENT_HANDLER

    @cached_property
    def representative_id(self) -> int | None:
        if self.role != Role.REPRESENTATIVE:
            return None
        return (
            Representative.objects.filter(user_id=self.user_id, ended_on__isnull=True)
            .values_list("pk", flat=True)
            .first()
        )

    def village_q(self, path: str = "village") -> Q:
        """Q limiting rows whose ``path`` points at a village this user may see."""
        if self.is_superuser:
            return Q()
        if self.role in {Role.TOWNSHIP_STAFF, Role.DEPARTMENT_HANDLER}:
            return Q(**{_join(path, "township_id"): self.township_id})
        if self.role in {Role.VILLAGE_STAFF, Role.GRID_LEADER, Role.REPRESENTATIVE}:
            return Q(**{_id(path): self.village_id})
        return NOTHING

    def grid_q(self, path: str = "grid") -> Q:
        """Q limiting rows whose ``path`` points at a grid this user may see."""
        if self.is_superuser:
            return Q()
        if self.role in {Role.TOWNSHIP_STAFF, Role.DEPARTMENT_HANDLER}:
            return Q(**{_join(path, "village__township_id"): self.township_id})
        if self.role == Role.VILLAGE_STAFF:
            return Q(**{_join(path, "village_id"): self.village_id})
        if self.role in {Role.GRID_LEADER, Role.REPRESENTATIVE}:
            return Q(**{_id(path): self.grid_id})
        return NOTHING

    def household_q(self, path: str = "household") -> Q:
        """Q limiting rows whose ``path`` points at a household this user may see.

        A representative sees only the households linked to them, not the rest of their grid;
        a department handler sees households only through the requests assigned to them.
        """
        if self.is_superuser:
            return Q()
        if self.role == Role.REPRESENTATIVE:
            if self.representative_id is None:
                return NOTHING
            return Q(**{_join(path, "representative_id"): self.representative_id})
        if self.role == Role.DEPARTMENT_HANDLER:
            return NOTHING
        return self.grid_q(_join(path, "grid"))

    def villages(self) -> QuerySet[Village]:
        if self.is_superuser:
            return Village.objects.all()
        if self.role in {Role.TOWNSHIP_STAFF, Role.DEPARTMENT_HANDLER}:
            return Village.objects.filter(township_id=self.township_id)
        if self.village_id:
            return Village.objects.filter(pk=self.village_id)
        return Village.objects.none()

    def grids(self) -> QuerySet[Grid]:
        return Grid.objects.filter(self.grid_q("")) if not self.is_superuser else Grid.objects.all()

    def households(self) -> QuerySet[Household]:
        if self.is_superuser:
            return Household.objects.all()
        return (
            Household.objects.filter(self.household_q(""))
            if self.role
            else Household.objects.none()
        )

    def can_see_pii(self, village_id: int | None) -> bool:
        """Unmasked 身份证号/手机号: only the village's own staff (and superusers)."""
        if self.is_superuser:
            return True
        return (
            self.role == Role.VILLAGE_STAFF
            and village_id is not None
            and village_id == self.village_id
        )

    def can_manage_village(self, village_id: int) -> bool:
        if self.is_superuser:
            return True
        if self.role == Role.TOWNSHIP_STAFF:
            return Village.objects.filter(pk=village_id, township_id=self.township_id).exists()
        return self.role == Role.VILLAGE_STAFF and self.village_id == village_id


ANONYMOUS = UserScope(None, False, None, None, None, None)


def scope_of(user) -> UserScope:
    """The user's scope, cached on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_user_scope", None)
    if cached is not None:
        return cached
    row = (
        Scope.objects.filter(user_id=user.pk)
        .values("role", "township_id", "village_id", "grid_id")
        .first()
    )
    if row is None:
        scope = UserScope(user.pk, user.is_superuser, None, None, None, None)
    else:
        township_id = row["township_id"]
        if township_id is None and row["village_id"] is not None:
            township_id = (
                Village.objects.filter(pk=row["village_id"])
                .values_list("township_id", flat=True)
                .first()
            )
        scope = UserScope(
            user.pk, user.is_superuser, row["role"], township_id, row["village_id"], row["grid_id"]
        )
    user._user_scope = scope
    return scope
