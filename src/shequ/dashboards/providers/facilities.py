"""Facilities: counts by type (locations come from the facility table, a bounded list), and
residents per community health centre."""

from __future__ import annotations

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from shequ.areas.models import Facility, FacilityKind

from ..registry import Indicator, Provider, register
from .common import epoch

KIND = "fac.kind"
FRESH = "fresh.facilities"


class FacilitiesProvider(Provider):
    def compute(self, ctx):
        from django.db.models import Max

        from ..rollups import grouped

        for area, _compound, kind, n in grouped(
            Facility.objects.all(), ["kind"], Count("pk"), tree=ctx.tree
        ):
            yield area, "", None, KIND, kind, n
        # Facilities have no modification time of their own: the rebuild's time stands in.
        for area, _compound, _n in grouped(Facility.objects.all(), [], Max("pk"), tree=ctx.tree):
            yield area, "", None, FRESH, "", epoch(ctx.now)

    def cells(self, as_of, facilities=()):
        out: dict = {}
        for area, kind in Facility.objects.filter(pk__in=list(facilities)).values_list(
            "area_code", "kind"
        ):
            cell = (area, "", None, KIND, kind)
            out[cell] = out.get(cell, 0) + 1
        return out

    def present(self, v, ctx):
        by_kind = v.dims(KIND)
        items = [
            {"key": k.value, "name": str(k.label), "value": by_kind.get(k.value, 0)}
            for k in FacilityKind
        ]
        centres = by_kind.get(FacilityKind.HEALTH_CENTRE, 0)
        residents = v.get("pop.residents", default=None)
        per_centre = round(residents / centres) if centres and residents else None
        return {
            "fac.by_kind": {"items": items},
            "fac.total": {"value": sum(by_kind.values())},
            "fac.residents_per_health_centre": {"value": per_centre},
        }

    def child_metrics(self, values, codes, ctx):
        return {
            "fac.total": {c: sum(values[c].dims(KIND).values()) for c in codes},
        }


register(
    FacilitiesProvider(
        module="facilities",
        label=_("Facilities"),
        keys=(KIND, FRESH),
        max_keys=(FRESH,),
        snapshot_keys=(KIND, FRESH),
        tracks=("facilities",),
        indicators=[
            Indicator(
                "fac.total",
                _("Facilities"),
                _(
                    "Hospitals, community health centres, schools, parks and community service "
                    "centres recorded here."
                ),
                choropleth=True,
            ),
            Indicator(
                "fac.by_kind",
                _("Facilities by type"),
                _("The number of facilities of each type recorded here."),
                chart="bar",
            ),
            Indicator(
                "fac.residents_per_health_centre",
                _("Residents per health centre"),
                _(
                    "Residents here divided by the community health centres here (none: no "
                    "centre recorded in this area)."
                ),
            ),
        ],
    )
)
