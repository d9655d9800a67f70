from django.contrib import admin

from .models import (
    Case,
    CaseEvent,
    Category,
    Department,
    ExtensionRequest,
    RoutingRule,
    WorkCalendarDay,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "parent",
        "respond_hours",
        "resolve_days_immediate",
        "resolve_days_promised",
        "resolve_days_coordinated",
        "active",
    ]
    search_fields = ["code", "name", "name_en"]
    list_filter = ["active"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "area_code"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """The routing matrix: category × area prefix → department (longest prefix wins)."""

    list_display = ["category", "area_prefix", "department", "auto_dispatch"]
    list_filter = ["department", "auto_dispatch"]
    search_fields = ["category__code", "area_prefix", "department__code"]
    list_editable = ["department", "auto_dispatch"]


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(admin.ModelAdmin):
    """Public holidays and adjusted workdays (调休) beyond or correcting data/holidays.json."""

    list_display = ["date", "workday", "name"]
    list_filter = ["workday"]
    date_hierarchy = "date"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Cases are written through the services (workflow, events); the admin only reads, within
    the user's scope like everywhere else, and shows no personal data (no reporter contact)."""

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user, "view")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "state", "category", "department", "area_code", "created_at"]
    list_filter = ["state", "channel", "case_type"]
    search_fields = ["number"]
    exclude = ["reporter_name", "reporter_phone", "reporter_email", "token"]
    list_select_related = ["category", "department"]
    show_full_result_count = False


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "move", "to_state", "at"]
    list_filter = ["kind"]
    list_select_related = ["case"]
    show_full_result_count = False


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = ["case", "days", "decision", "requested_at"]
    exclude = []
