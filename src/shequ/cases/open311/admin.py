from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import ApiClient, Open311Request, Service, ServiceAttribute


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "active", "max_per_minute", "created_at"]
    list_filter = ["active"]
    readonly_fields = ["key_prefix", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            fresh, key = ApiClient.issue(
                obj.name, contact=obj.contact, active=obj.active, max_per_minute=obj.max_per_minute
            )
            obj.pk, obj.key_hash, obj.key_prefix = fresh.pk, fresh.key_hash, fresh.key_prefix
            obj.created_at = fresh.created_at
            messages.warning(
                request, _("The api_key (shown once, copy it now): %(key)s") % {"key": key}
            )
            return
        super().save_model(request, obj, form, change)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["category", "type", "published"]
    list_filter = ["type", "published"]


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ["category", "code", "datatype", "required", "order"]
    list_filter = ["datatype", "required"]


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ["case", "client", "created_at"]
    # The reporter's ids are not shown; the contact stays on the case, masked.
    fields = readonly_fields = ["case", "client", "token", "description", "media_url"]

    def has_add_permission(self, request):
        return False
