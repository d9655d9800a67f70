"""Admin for configuration: staff accounts and their role assignments; the reveal log, read only.

Personal data (persons, households, residences) is deliberately not in the admin: it is only
reached through the scoped, masked pages and API.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import PersonalDataAccess, RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 1
    fields = ("role", "area_code", "created_at")
    readonly_fields = ("created_at",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [RoleAssignmentInline]
    list_display = ("username", "display_name", "email", "is_active", "is_staff", "last_login")
    search_fields = ("username", "display_name", "email")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "first_name", "last_name", "email")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "display_name", "password1", "password2"),
            },
        ),
    )


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "area_code", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__display_name", "area_code")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """The reveal log: append-only, so nobody adds, changes or deletes rows here."""

    list_display = ("at", "user", "model", "object_id", "area_code", "fields", "channel")
    list_filter = ("model", "channel")
    search_fields = ("user__username", "area_code", "object_id", "reason")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in PersonalDataAccess._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
