"""Admin for the governance tree, places and facilities (configuration, not personal data)."""

from django.contrib import admin

from .models import Area, Facility, Place


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "ext_code")
    list_filter = ("level",)
    search_fields = ("code", "name", "name_en", "ext_code")
    raw_id_fields = ("parent",)
    ordering = ("code",)


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "kind", "area_code", "compound_type")
    list_filter = ("kind", "compound_type")
    search_fields = ("code", "name", "name_en", "address", "ext_code")
    raw_id_fields = ("parent",)
    ordering = ("code",)


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "kind", "area_code", "capacity")
    list_filter = ("kind",)
    search_fields = ("code", "name", "name_en", "address")
    ordering = ("code",)
