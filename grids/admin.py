"""Django admin for township and village staff, in Chinese, scoped, every write through services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import get_fields_from_path, unquote
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .access import UserScope, scope_of
from .forms import RepresentativePasswordForm
from .models import (
    AuditEntry,
    ContactAssignment,
    Grid,
    Household,
    Representative,
    Resident,
    Role,
    Scope,
    Section,
    Township,
    User,
    Village,
)
from .validators import id_number_tail, parse_ids

admin.site.site_header = _("村级网格治理 · 管理后台")
admin.site.site_title = _("网格治理管理后台")
admin.site.index_title = _("辖区、人员与业务数据")


def scoped_choices(scope: UserScope, model) -> QuerySet | None:
    """The rows of ``model`` this user may pick or filter by; None for models not mapped here."""
    if model is Village:
        return scope.villages()
    if model is Grid:
        return scope.grids()
    if model is Section:
        return Section.objects.filter(scope.village_q("village"))
    if model is Household:
        return scope.households()
    if model is Resident:
        return Resident.objects.filter(scope.household_q("household"))
    if model is Representative:
        return Representative.objects.filter(scope.grid_q("grid"))
    if model is Township:
        return (
            Township.objects.all()
            if scope.is_superuser
            else Township.objects.filter(pk=scope.township_id)
        )
    return None


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter that offers only the villages, grids … inside the user's scope.

    Django's own filter lists every row of the related table: a village clerk would read the
    names of every village in the database. Models not mapped by ``scoped_choices`` fall back to
    the values present in the (already scoped) list itself.
    """

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        allowed = scoped_choices(scope_of(request.user), field.related_model)
        if allowed is None:
            allowed = (
                model_admin.get_queryset(request)
                .distinct()
                .values_list(f"{self.field_path}__pk", flat=True)
            )
        else:
            allowed = allowed.values("pk")
        return field.get_choices(
            include_blank=False, limit_choices_to={"pk__in": allowed}, ordering=ordering
        )


class SelectedIdsChecked:
    """Admin actions receive only well-formed ids: Django passes ``_selected_action`` straight
    to ``pk__in``, so a garbled or forged value was a 500 instead of "nothing selected"."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and helpers.ACTION_CHECKBOX_NAME in request.POST:
            post = request.POST.copy()
            sent = post.getlist(helpers.ACTION_CHECKBOX_NAME)
            selected = parse_ids(sent)
            if sent and not selected:
                self.message_user(request, gettext("所选条目无效，请重新勾选"), messages.WARNING)
                return HttpResponseRedirect(request.get_full_path())
            post.setlist(helpers.ACTION_CHECKBOX_NAME, [str(pk) for pk in selected])
            request.POST = post
        return super().changelist_view(request, extra_context)


class ScopedAdmin(SelectedIdsChecked, admin.ModelAdmin):
    """Base admin: rows limited to the user's scope, no deletes, saves through services.

    ``village_path`` is the lookup from the model to its Village ("" for Village itself,
    None for models above villages). ``editors`` are the roles that may add and change rows.
    """

    village_path: str | None = "village"
    editors: set[str] = {Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF}
    viewers: set[str] = {Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF}

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        scope = scope_of(request.user)
        if self.village_path is None:
            if scope.is_superuser:
                return qs
            if scope.role in {Role.TOWNSHIP_STAFF, Role.DEPARTMENT_HANDLER}:
                return qs.filter(pk=scope.township_id) if self.model is Township else qs.none()
            return qs.none()
        return qs.filter(
            scope.village_q(self.village_path) if self.village_path else scope.village_q("")
        )

    def _role_in(self, request, roles: set[str]) -> bool:
        scope = scope_of(request.user)
        return (
            request.user.is_active
            and request.user.is_staff
            and (scope.is_superuser or scope.role in roles)
        )

    def has_module_permission(self, request):
        return self._role_in(request, self.viewers)

    def has_view_permission(self, request, obj=None):
        return self._role_in(request, self.viewers)

    def has_add_permission(self, request):
        return self._role_in(request, self.editors)

    def has_change_permission(self, request, obj=None):
        return self._role_in(request, self.editors)

    def has_delete_permission(self, request, obj=None):
        # Nothing is deleted: people move out, representatives end their term, rows stay.
        return False

    # Account fields → the roles whose accounts may be chosen there (in the user's scope).
    # An account field not listed offers nobody.
    user_field_roles: dict[str, set[str]] = {}

    def get_list_filter(self, request):
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and get_fields_from_path(self.model, entry)[-1].is_relation:
                entry = (entry, ScopedRelatedFieldListFilter)
            filters.append(entry)
        return filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = scope_of(request.user)
        target = db_field.related_model
        if target is get_user_model():
            if db_field.name in self.user_field_roles or self._is_grids_model():
                roles = self.user_field_roles.get(db_field.name, set())
                kwargs["queryset"] = selectors.staff_users(scope=scope, roles=roles)
        elif target is Representative:
            kwargs["queryset"] = Representative.objects.filter(
                scope.grid_q("grid"), ended_on__isnull=True
            )
        else:
            allowed = scoped_choices(scope, target)
            if allowed is not None:
                kwargs["queryset"] = allowed
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        allowed = scoped_choices(scope_of(request.user), db_field.related_model)
        if allowed is not None:
            kwargs["queryset"] = allowed
        elif self._is_grids_model():
            kwargs["queryset"] = db_field.related_model.objects.none()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _is_grids_model(self) -> bool:
        # Other apps' admins built on this one map their own account fields.
        return self.model._meta.app_label == "grids"

    def village_id_of(self, obj) -> int | None:
        if self.village_path is None:
            return None
        if self.village_path == "":
            return obj.pk
        current = obj
        for part in self.village_path.split("__"):
            current = getattr(current, part, None)
            if current is None:
                return None
        return current.pk

    def save_model(self, request, obj, form, change):
        try:
            if change:
                original = type(obj).objects.get(pk=obj.pk)
                data = {
                    name: form.cleaned_data[name]
                    for name in form.changed_data
                    if name in form.cleaned_data
                }
                self.update(request, original, data)
                obj.refresh_from_db()
            else:
                self.create(request, obj, form)
        except ValidationError as exc:
            # The form was valid but a business rule in the service refused: nothing was written,
            # say why and send the user back to the form instead of reporting success.
            self.message_user(request, "；".join(exc.messages), level=messages.ERROR)
            request.service_refused = True

    def save_related(self, request, form, formsets, change):
        if not getattr(request, "service_refused", False):
            super().save_related(request, form, formsets, change)

    def log_addition(self, request, obj, message):
        if not getattr(request, "service_refused", False):
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request, obj, message):
        if not getattr(request, "service_refused", False):
            return super().log_change(request, obj, message)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "service_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "service_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def update(self, request, instance, data: dict) -> None:
        services.model_update(
            actor=request.user,
            instance=instance,
            data=data,
            village_id=self.village_id_of(instance),
        )

    def create(self, request, obj, form) -> None:
        services.model_create(actor=request.user, instance=obj, village_id=self.village_id_of(obj))


@admin.register(Township)
class TownshipAdmin(ScopedAdmin):
    village_path = None
    editors = set()
    viewers = {Role.TOWNSHIP_STAFF}
    list_display = (
        "code",
        "name",
        "grid_deadline_days",
        "village_deadline_days",
        "township_deadline_days",
    )
    search_fields = ("code", "name")

    def has_change_permission(self, request, obj=None):
        return self._role_in(request, {Role.TOWNSHIP_STAFF})


@admin.register(Village)
class VillageAdmin(ScopedAdmin):
    village_path = ""
    editors = {Role.TOWNSHIP_STAFF}
    list_display = (
        "code",
        "name",
        "township",
        "kind",
        "party_secretary",
        "min_households_per_rep",
        "max_households_per_rep",
    )
    list_filter = ("township", "kind")
    list_select_related = ("township", "party_secretary")
    search_fields = ("code", "name")

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != "party_secretary"]
        # A new village has no residents yet: its secretary is chosen once the roster is in.
        return [*fields, "party_secretary"] if obj is not None else fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._admin_village = obj
        return super().get_form(request, obj, change=change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        village = getattr(request, "_admin_village", None)
        if db_field.name == "party_secretary" and field is not None:
            field.queryset = (
                field.queryset.filter(household__village=village)
                .exclude(status__in=[Resident.Status.MOVED, Resident.Status.DECEASED])
                .select_related("household")
                .order_by("household__number", "id")
                if village is not None
                else Resident.objects.none()
            )
            field.label_from_instance = lambda r: f"{r.name}（{r.household.number}）"
        return field

    def update(self, request, instance, data) -> None:
        secretary_changed = "party_secretary" in data
        secretary = data.pop("party_secretary", None)
        if data:
            super().update(request, instance, data)
            instance.refresh_from_db()
        if secretary_changed:
            services.village_party_secretary_set(
                actor=request.user, village=instance, resident=secretary
            )

    def create(self, request, obj, form) -> None:
        created = services.village_create(
            actor=request.user, township=obj.township, code=obj.code, name=obj.name, kind=obj.kind
        )
        obj.pk = created.pk


@admin.register(Section)
class SectionAdmin(ScopedAdmin):
    list_display = ("name", "village", "leader")
    list_filter = ("village",)
    search_fields = ("name",)
    list_select_related = ("village", "leader")
    user_field_roles = {"leader": {Role.VILLAGE_STAFF, Role.GRID_LEADER}}

    def update(self, request, instance, data) -> None:
        services.section_update(actor=request.user, section=instance, **data)

    def create(self, request, obj, form) -> None:
        created = services.section_create(
            actor=request.user, village=obj.village, name=obj.name, leader=obj.leader
        )
        obj.pk = created.pk


@admin.register(Grid)
class GridAdmin(ScopedAdmin):
    list_display = ("code", "name", "village", "section", "leader")
    list_filter = ("village",)
    search_fields = ("code", "name")
    list_select_related = ("village", "section", "leader")
    user_field_roles = {"leader": {Role.GRID_LEADER, Role.VILLAGE_STAFF}}

    def get_readonly_fields(self, request, obj=None):
        return ("village", "code") if obj else ()

    def update(self, request, instance, data) -> None:
        services.grid_update(actor=request.user, grid=instance, **data)

    def create(self, request, obj, form) -> None:
        created = services.grid_create(
            actor=request.user,
            village=obj.village,
            code=obj.code,
            name=obj.name,
            section=obj.section,
            leader=obj.leader,
        )
        obj.pk = created.pk


class ResidentInline(admin.TabularInline):
    model = Resident
    fields = ("name", "relation", "gender", "birth_date", "masked_id", "masked_tel", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("身份证号"))
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("手机号"))
    def masked_tel(self, obj):
        return obj.masked_phone


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("number", "head", "village", "grid", "representative", "priority")
    list_filter = ("village", "grid", "priority")
    search_fields = ("number", "head__name", "residents__name")
    list_select_related = ("head", "village", "grid", "representative__resident")
    fields = ("grid", "number", "address", "tags", "head", "representative")
    inlines = [ResidentInline]

    def get_search_results(self, request, queryset, search_term):
        # ``queryset`` already carries the list filters: the ID-number matches must keep them.
        filtered = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        tail = id_number_tail(search_term)
        if tail:
            queryset |= filtered.filter(residents__id_number__endswith=tail)
            may_have_duplicates = True
        return queryset, may_have_duplicates

    def update(self, request, instance, data):
        services.household_update(actor=request.user, household=instance, **data)

    def create(self, request, obj, form):
        created = services.household_create(
            actor=request.user, grid=obj.grid, number=obj.number, address=obj.address, tags=obj.tags
        )
        obj.pk = created.pk


@admin.register(Resident)
class ResidentAdmin(ScopedAdmin):
    village_path = "household__village"
    list_display = ("name", "household", "relation", "gender", "masked_id", "masked_tel", "status")
    list_filter = ("status", "gender", "household__village")
    search_fields = ("name", "household__number")
    list_select_related = ("household",)

    def get_fields(self, request, obj=None):
        base = ["household", "name", "relation", "gender", "birth_date", "status"]
        if obj is None or scope_of(request.user).can_see_pii(obj.household.village_id):
            return [*base, "id_number", "phone"]
        return [*base, "masked_id", "masked_tel"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not scope_of(request.user).can_see_pii(obj.household.village_id):
            return ("masked_id", "masked_tel")
        return ()

    def get_search_results(self, request, queryset, search_term):
        # ``queryset`` already carries the list filters: the ID-number matches must keep them.
        filtered = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        tail = id_number_tail(search_term)
        if tail:
            queryset |= filtered.filter(id_number__endswith=tail)
        return queryset, may_have_duplicates

    @admin.display(description=_("身份证号"))
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("手机号"))
    def masked_tel(self, obj):
        return obj.masked_phone

    def update(self, request, instance, data):
        services.resident_update(actor=request.user, resident=instance, **data)

    def create(self, request, obj, form):
        data = form.cleaned_data
        created = services.resident_create(
            actor=request.user,
            household=data["household"],
            name=data["name"],
            relation=data.get("relation", ""),
            gender=data.get("gender", ""),
            birth_date=data.get("birth_date"),
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            status=data.get("status") or Resident.Status.PRESENT,
        )
        obj.pk = created.pk


@admin.register(Representative)
class RepresentativeAdmin(ScopedAdmin):
    village_path = "grid__village"
    list_display = ("card_number", "resident", "grid", "kind", "appointed_on", "ended_on")
    list_filter = ("kind", "grid__village")
    search_fields = ("card_number", "resident__name")
    list_select_related = ("resident", "grid")
    fields = ("resident", "grid", "kind", "card_number", "appointed_on", "ended_on")

    def get_fields(self, request, obj=None):
        return [*self.fields, "login_account"] if obj else list(self.fields)

    def get_readonly_fields(self, request, obj=None):
        return ("resident", "grid", "appointed_on", "login_account") if obj else ()

    @admin.display(description=_("手机登录"))
    def login_account(self, obj):
        if obj.user_id is None:
            return gettext("未开通（没有登记手机号）")
        if not obj.is_active:
            return gettext("已离任")
        url = reverse("admin:grids_representative_password", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("设置初始密码"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/password/",
                self.admin_site.admin_view(self.password_view),
                name="grids_representative_password",
            ),
            *super().get_urls(),
        ]

    def password_view(self, request, object_id):
        """村里设置初始密码 for one representative of the staff member's village or township."""
        representative = self.get_object(request, unquote(object_id))
        if representative is None:
            raise Http404
        if not self.has_change_permission(request, representative):
            raise PermissionDenied
        form = RepresentativePasswordForm(request.POST or None, user=representative.user)
        if request.method == "POST" and form.is_valid():
            try:
                services.representative_password_set(
                    actor=request.user,
                    representative=representative,
                    password=form.cleaned_data["password1"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                self.message_user(
                    request,
                    gettext(
                        "已为%(name)s设置初始密码。请当面告知本人；代表用手机号登录后须先修改密码。"
                    )
                    % {"name": representative.resident.name},
                )
                return HttpResponseRedirect(
                    reverse("admin:grids_representative_change", args=[representative.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("设置初始密码：%(name)s") % {"name": representative.resident.name},
            "opts": self.opts,
            "original": representative,
            "form": form,
            "phone": representative.resident.masked_phone,
        }
        return render(request, "admin/grids/representative/password.html", context)

    def update(self, request, instance, data):
        ended_on = data.pop("ended_on", None)
        if data:
            services.model_update(
                actor=request.user,
                instance=instance,
                data=data,
                village_id=instance.grid.village_id,
            )
        if ended_on:
            services.representative_end(
                actor=request.user, representative=instance, ended_on=ended_on
            )

    def create(self, request, obj, form):
        created = services.representative_appoint(
            actor=request.user,
            resident=obj.resident,
            grid=obj.grid,
            card_number=obj.card_number,
            appointed_on=obj.appointed_on,
            kind=obj.kind,
        )
        obj.pk = created.pk


@admin.register(ContactAssignment)
class ContactAssignmentAdmin(ScopedAdmin):
    """包村 / 包片 / 包网格. Who answers for where; it opens no page the cadre could not open."""

    list_display = ("cadre", "kind", "village", "section", "grid", "started_on", "ended_on")
    list_filter = ("kind", "village")
    list_select_related = ("cadre", "village", "section", "grid")
    fields = ("cadre", "village", "section", "grid", "started_on", "ended_on")
    user_field_roles = {"cadre": {Role.TOWNSHIP_STAFF, Role.VILLAGE_STAFF}}

    def get_readonly_fields(self, request, obj=None):
        # An assignment is ended and a new one made, never re-pointed: the record stays true.
        return ("cadre", "kind", "village", "section", "grid", "started_on") if obj else ()

    def get_fields(self, request, obj=None):
        return ["kind", *self.fields] if obj else [f for f in self.fields if f != "ended_on"]

    def update(self, request, instance, data):
        if data.get("ended_on"):
            services.contact_end(actor=request.user, assignment=instance, ended_on=data["ended_on"])

    def create(self, request, obj, form):
        created = services.contact_assign(
            actor=request.user,
            cadre=obj.cadre,
            village=obj.village,
            started_on=obj.started_on,
            section=obj.section,
            grid=obj.grid,
        )
        obj.pk = created.pk


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_repr", "village")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "object_id")
    readonly_fields = (
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "village",
        "before",
        "after",
    )
    editors = set()

    def get_queryset(self, request):
        scope = scope_of(request.user)
        qs = AuditEntry.objects.select_related("actor", "village")
        if scope.is_superuser:
            return qs
        return qs.filter(scope.village_q("village"))


class ScopeForm(forms.ModelForm):
    class Meta:
        model = Scope
        fields = ("role", "township", "village", "grid")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role"):
            # Keep only the place the role needs, as scope_assign will.
            cleaned["township"], cleaned["village"], cleaned["grid"] = services.scope_place(
                role=cleaned["role"],
                township=cleaned.get("township"),
                village=cleaned.get("village"),
                grid=cleaned.get("grid"),
            )
        return cleaned


class ScopeInline(admin.StackedInline):
    model = Scope
    form = ScopeForm
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(SelectedIdsChecked, DjangoUserAdmin):
    """Accounts and their scopes: superusers only (township staff ask them)."""

    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("联系方式"), {"fields": ("phone", "display_name")}),
    )
    list_display = ("username", "display_name", "phone", "is_staff", "is_active")
    search_fields = ("username", "display_name", "phone")
    inlines = [ScopeInline]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        before = services.snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        services.audit_record(
            actor=request.user,
            action="update" if change else "create",
            instance=obj,
            before=before,
            after=services.snapshot(obj),
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Scope:
            super().save_formset(request, form, formset, change)
            return
        # The scope decides what the account sees: set through the service, which audits it.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for scope_form in formset.forms:
            if not scope_form.has_changed() or not scope_form.cleaned_data:
                continue
            data = scope_form.cleaned_data
            existed = scope_form.instance.pk is not None
            scope = services.scope_assign(
                actor=request.user,
                user=form.instance,
                role=data["role"],
                township=data.get("township"),
                village=data.get("village"),
                grid=data.get("grid"),
            )
            if existed:
                formset.changed_objects.append((scope, scope_form.changed_data))
            else:
                formset.new_objects.append(scope)

    def user_change_password(self, request, id, form_url=""):
        """The admin's password form, with the change made (and audited) by the service."""
        if request.method != "POST":
            return super().user_change_password(request, id, form_url)
        user = self.get_object(request, unquote(id))
        if user is None or not self.has_change_permission(request, user):
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        usable = form.is_valid() and form.cleaned_data.get("set_usable_password", True)
        if not form.is_valid() or not (usable or "unset-password" in request.POST):
            # Django's view renders the errors (or the conflicting-submission message).
            return super().user_change_password(request, id, form_url)
        services.user_password_set(
            actor=request.user,
            user=user,
            password=form.cleaned_data["password1"] if usable else None,
            # Someone else's new password is an initial one: they choose their own at sign-in.
            must_change=user.pk != request.user.pk,
        )
        self.log_change(request, user, self.construct_change_message(request, form, None))
        messages.success(
            request,
            gettext("密码已修改。") if usable else gettext("已停用该账号的密码登录。"),
        )
        update_session_auth_hash(request, user)
        return HttpResponseRedirect(reverse("admin:grids_user_change", args=[user.pk]))
