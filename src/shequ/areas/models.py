"""The governance tree (治理层级) and places.

Areas: city › district (区县) › street/town (街道/镇) › community/village (社区/村) › grid (网格).
Codes extend the national division codes so that "everything under X" is one indexed prefix
query: city ``5101`` (national 510100), district ``510104``, street ``510104001``, community
``510104001001``, grid ``510104001001G01``.

Places: compound (小区/院落) › building (栋) › unit (单元) › dwelling (户/室), coded under their
community: compound ``510104001001C012``, building ``…C012B03``, unit ``…B03U2``, dwelling
``…U2R0501``. A place's ``area_code`` is the deepest area it lies in (its grid, or its
community where no grids are drawn): that is what scoping filters on.
"""

import itertools

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shequ.core.querysets import ScopedModel


class Level(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    STREET = "street", _("Street / town")
    COMMUNITY = "community", _("Community / village")
    GRID = "grid", _("Grid")


LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]
CHILD_LEVEL = dict(itertools.pairwise(LEVEL_ORDER))


class Named(models.Model):
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Located(models.Model):
    lat = models.FloatField(_("latitude (WGS84)"), null=True, blank=True)
    lng = models.FloatField(_("longitude (WGS84)"), null=True, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON geometry, WGS84)"), null=True, blank=True)

    class Meta:
        abstract = True


class Area(Named, Located, ScopedModel):
    scope_field = "code"

    code = models.CharField(_("code"), max_length=40, unique=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    ext_code = models.CharField(
        _("national code"),
        max_length=40,
        blank=True,
        db_index=True,
        help_text=_("The code as other systems write it where it differs, e.g. 510100."),
    )
    kind = models.CharField(_("kind"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]

    @property
    def area_code(self) -> str:
        return self.code

    def ancestor_codes(self) -> list[str]:
        """Codes of the ancestors, root first, read off the chain of parents."""
        codes, node = [], self.parent
        while node is not None:
            codes.append(node.code)
            node = node.parent
        return codes[::-1]


class PlaceKind(models.TextChoices):
    COMPOUND = "compound", _("Compound")
    BUILDING = "building", _("Building")
    UNIT = "unit", _("Unit")
    DWELLING = "dwelling", _("Dwelling")


PLACE_CHILD = {
    PlaceKind.COMPOUND: PlaceKind.BUILDING,
    PlaceKind.BUILDING: PlaceKind.UNIT,
    PlaceKind.UNIT: PlaceKind.DWELLING,
}


class CompoundType(models.TextChoices):
    COMMERCIAL = "commercial", _("Commercial housing (商品房)")
    OLD = "old", _("Old compound (老旧院落)")
    RESETTLEMENT = "resettlement", _("Resettlement housing (安置房)")
    VILLAGE = "village", _("Village group (村组)")


class Place(Named, Located, ScopedModel):
    code = models.CharField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PlaceKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    ext_code = models.CharField(_("external code"), max_length=60, blank=True, db_index=True)
    compound_type = models.CharField(
        _("compound type"), max_length=16, choices=CompoundType.choices, blank=True
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    managed = models.BooleanField(_("has a property company"), null=True, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["code"]


class FacilityKind(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital")
    HEALTH_CENTRE = "health_centre", _("Community health centre")
    SCHOOL = "school", _("School")
    PARK = "park", _("Park")
    SERVICE_CENTRE = "service_centre", _("Community service centre")


class Facility(Named, Located, ScopedModel):
    code = models.CharField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=FacilityKind.choices, db_index=True)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["code"]
