"""Read-only admin: every change goes through the services and the staff pages, which
enforce the law's rules and write the audit trail; the admin only looks."""

from django.contrib import admin

from grids.access import scope_of

from .models import (
    Article,
    Attendance,
    Body,
    Comment,
    Commitment,
    Meeting,
    Membership,
    Motion,
    RuleReview,
    RuleVersion,
    VillageRule,
)


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    village_path = "village"

    def get_queryset(self, request):
        scope = scope_of(request.user)
        return super().get_queryset(request).filter(scope.village_q(self.village_path))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False
    fields = ["resident", "role", "joined_on", "left_on"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Body)
class BodyAdmin(ReadOnlyScopedAdmin):
    list_display = ["name", "kind", "village", "grid"]
    list_filter = ["kind"]
    search_fields = ["name", "village__name"]
    inlines = [MembershipInline]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyScopedAdmin):
    list_display = ["title", "kind", "village", "scheduled_at", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "village__name"]
    date_hierarchy = "scheduled_at"


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyScopedAdmin):
    village_path = "meeting__village"
    list_display = ["meeting", "resident", "household", "proxy_for"]


@admin.register(Motion)
class MotionAdmin(ReadOnlyScopedAdmin):
    list_display = ["title", "village", "mode", "electorate", "secret", "status"]
    list_filter = ["mode", "status", "secret"]


@admin.register(VillageRule)
class VillageRuleAdmin(ReadOnlyScopedAdmin):
    list_display = ["village", "title"]


class ArticleInline(admin.TabularInline):
    model = Article
    extra = 0
    can_delete = False
    readonly_fields = ["number", "title", "text"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyScopedAdmin):
    village_path = "rule__village"
    list_display = ["rule", "number", "title", "status", "in_force_from"]
    list_filter = ["status"]
    inlines = [ArticleInline]


@admin.register(RuleReview)
class RuleReviewAdmin(ReadOnlyScopedAdmin):
    village_path = "version__rule__village"
    list_display = ["version", "decision", "reviewer", "at"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyScopedAdmin):
    village_path = "article__version__rule__village"
    list_display = ["article", "channel", "author_name", "created_at"]


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyScopedAdmin):
    village_path = "version__rule__village"
    list_display = ["version", "household", "signed_on", "recorded_by"]
