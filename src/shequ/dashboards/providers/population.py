"""Population: residents by type, households, age pyramid, elderly living alone, residents over
time, data freshness. Counts people, so small numbers are suppressed for roles that may not
see individual people (see ``data.Presenter.small``)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, F, FloatField, IntegerField, Max, Q, Value, When
from django.db.models.functions import Cast, Floor, TruncMonth
from django.utils.translation import gettext_lazy as _

from shequ.people.choices import ResidentType, Sex
from shequ.people.models import Household, Person, Residence

from ..registry import Indicator, Provider, register
from .common import age_on, epoch, month_end, month_ends_before, years_before

BAND_YEARS = 5
TOP_BAND = 20  # 100+
ELDERLY_AGE = 60
SERIES_MONTHS = 23  # plus the current point: two years

RESIDENTS = "pop.residents"
TYPE = "pop.type"
AGE = "pop.age"
ALONE = "pop.elderly_alone"
HOUSEHOLDS = "pop.households"
OVER_TIME = "pop.residents_at"
FRESH = "fresh.people"


def band_label(band: int) -> str:
    if band >= TOP_BAND:
        return f"{TOP_BAND * BAND_YEARS}+"
    return f"{band * BAND_YEARS}-{band * BAND_YEARS + BAND_YEARS - 1}"


def _age_expr(as_of: dt.date):
    later_birthday = Q(birth_date__month__gt=as_of.month) | Q(
        birth_date__month=as_of.month, birth_date__day__gt=as_of.day
    )
    return (
        Value(as_of.year)
        - Cast(F("birth_date__year"), IntegerField())
        - Case(When(later_birthday, then=Value(1)), default=Value(0))
    )


class PopulationProvider(Provider):
    def compute(self, ctx):
        from ..rollups import grouped

        tree, as_of = ctx.tree, ctx.as_of
        persons = Person.objects.all()
        place = "dwelling__code"
        for area, compound, rtype, n in grouped(
            persons, ["resident_type"], Count("pk"), place_field=place, tree=tree
        ):
            yield area, compound, None, RESIDENTS, "", n
            yield area, compound, None, TYPE, rtype, n
        band = Floor(Cast(_age_expr(as_of), FloatField()) / Value(float(BAND_YEARS)))
        for area, compound, sex, b, n in grouped(
            persons.filter(birth_date__isnull=False, birth_date__lte=as_of),
            ["sex", band],
            Count("pk"),
            place_field=place,
            tree=tree,
        ):
            yield area, compound, None, AGE, f"{sex}:{min(int(b), TOP_BAND)}", n
        alone_households = (
            Household.objects.order_by().annotate(n=Count("members")).filter(n=1).values("pk")
        )
        elderly_alone = persons.filter(
            birth_date__lte=years_before(as_of, ELDERLY_AGE), household__in=alone_households
        )
        for area, compound, n in grouped(
            elderly_alone, [], Count("pk"), place_field=place, tree=tree
        ):
            yield area, compound, None, ALONE, "", n
        for area, compound, n in grouped(
            Household.objects.all(), [], Count("pk"), place_field=place, tree=tree
        ):
            yield area, compound, None, HOUSEHOLDS, "", n
        for area, compound, latest in grouped(
            persons, [], Max("updated_at"), place_field=place, tree=tree
        ):
            yield area, compound, None, FRESH, "", epoch(latest)
        yield from self._over_time(ctx)

    def _over_time(self, ctx):
        """Residences active at each month end (and today): a baseline and monthly changes."""
        from ..rollups import grouped

        as_of, tree = ctx.as_of, ctx.tree
        ends = month_ends_before(as_of, SERIES_MONTHS)
        first = ends[0]
        points = [*ends, as_of]
        res = Residence.objects.all()
        place = "dwelling__code"
        totals: dict[tuple[str, str], list[int]] = {}

        def slot(area, compound):
            return totals.setdefault((area, compound), [0] * len(points))

        active_at_first = res.filter(
            Q(start__isnull=True) | Q(start__lte=first), Q(end__isnull=True) | Q(end__gt=first)
        )
        for area, compound, n in grouped(
            active_at_first, [], Count("pk"), place_field=place, tree=tree
        ):
            row = slot(area, compound)
            for i in range(len(points)):
                row[i] += n
        for field_name, sign in (("start", 1), ("end", -1)):
            changes = res.filter(**{f"{field_name}__gt": first, f"{field_name}__lte": as_of})
            for area, compound, month, n in grouped(
                changes, [TruncMonth(field_name)], Count("pk"), place_field=place, tree=tree
            ):
                month = month.date() if isinstance(month, dt.datetime) else month
                row = slot(area, compound)
                for i, point in enumerate(points):
                    if point >= month_end(month) or i == len(points) - 1:
                        row[i] += sign * n
        for (area, compound), row in totals.items():
            for i, point in enumerate(points):
                day = None if i == len(points) - 1 else point
                yield area, compound, day, OVER_TIME, "", row[i]

    def cells(self, as_of, persons=(), households=(), residences=()):
        from ..rollups import Compounds

        out: dict = {}

        def add(area, compound, day, key, dim, value=1):
            cell = (area, compound, day, key, dim)
            if key == FRESH:
                out[cell] = max(out.get(cell, 0), value)
            else:
                out[cell] = out.get(cell, 0) + value

        people = list(
            Person.objects.filter(Q(pk__in=list(persons)) | Q(household_id__in=list(households)))
            .select_related("dwelling")
            .distinct()
        )
        homes = list(Household.objects.filter(pk__in=list(households)).select_related("dwelling"))
        stays = []
        if residences:
            stays = list(
                Residence.objects.filter(pk__in=list(residences)).select_related("dwelling")
            )
        tree = Compounds(
            [p.dwelling.code for p in people if p.dwelling]
            + [h.dwelling.code for h in homes if h.dwelling]
            + [r.dwelling.code for r in stays]
        )
        sizes = dict(
            Household.objects.filter(pk__in={p.household_id for p in people if p.household_id})
            .annotate(n=Count("members"))
            .values_list("pk", "n")
        )
        elderly_born = years_before(as_of, ELDERLY_AGE)
        for p in people:
            compound = tree.compound_of(p.dwelling.code if p.dwelling else None)
            add(p.area_code, compound, None, RESIDENTS, "")
            add(p.area_code, compound, None, TYPE, p.resident_type)
            age = age_on(p.birth_date, as_of)
            if age is not None and age >= 0:
                add(p.area_code, compound, None, AGE, f"{p.sex}:{min(age // BAND_YEARS, 20)}")
            if (
                p.birth_date
                and p.birth_date <= elderly_born
                and p.household_id
                and sizes.get(p.household_id) == 1
            ):
                add(p.area_code, compound, None, ALONE, "")
            if p.updated_at:
                add(p.area_code, compound, None, FRESH, "", epoch(p.updated_at))
        for h in homes:
            add(
                h.area_code,
                tree.compound_of(h.dwelling.code if h.dwelling else None),
                None,
                HOUSEHOLDS,
                "",
            )
        if residences:
            ends = month_ends_before(as_of, SERIES_MONTHS)
            points = [*ends, as_of]
            for r in stays:
                compound = tree.compound_of(r.dwelling.code)
                for i, point in enumerate(points):
                    started = r.start is None or r.start <= point
                    ended = r.end is not None and r.end <= point
                    if started and not ended:
                        day = None if i == len(points) - 1 else point
                        add(r.area_code, compound, day, OVER_TIME, "")
        return out

    def present(self, v, ctx):
        small = ctx.small
        residents = v.get(RESIDENTS)
        by_type = v.dims(TYPE)
        types = [
            {"key": t.value, "name": str(t.label), "value": small(by_type.get(t.value, 0))}
            for t in ResidentType
        ]
        ages = v.dims(AGE)
        bands = list(range(TOP_BAND + 1))
        pyramid = {
            "bands": [band_label(b) for b in bands],
            "male": [small(ages.get(f"{Sex.MALE}:{b}", 0)) for b in bands],
            "female": [small(ages.get(f"{Sex.FEMALE}:{b}", 0)) for b in bands],
            "male_label": str(Sex.MALE.label),
            "female_label": str(Sex.FEMALE.label),
        }
        series = [[d.isoformat(), small(n)] for d, n in v.series(OVER_TIME)]
        fresh = v.get(FRESH, default=None)
        return {
            RESIDENTS: {"value": small(residents)},
            HOUSEHOLDS: {"value": small(v.get(HOUSEHOLDS))},
            "pop.by_type": {"items": types},
            "pop.pyramid": pyramid,
            ALONE: {"value": small(v.get(ALONE))},
            "pop.over_time": {"points": series},
            "pop.freshness": {
                "value": dt.datetime.fromtimestamp(fresh, tz=dt.UTC).isoformat() if fresh else None
            },
        }

    def child_metrics(self, values, codes, ctx):
        small = ctx.small
        return {
            RESIDENTS: {c: small(values[c].get(RESIDENTS)) for c in codes},
            HOUSEHOLDS: {c: small(values[c].get(HOUSEHOLDS)) for c in codes},
            ALONE: {c: small(values[c].get(ALONE)) for c in codes},
            "pop.floating": {c: small(values[c].dims(TYPE).get("floating", 0)) for c in codes},
        }


register(
    PopulationProvider(
        module="population",
        label=_("Population"),
        keys=(RESIDENTS, TYPE, AGE, ALONE, HOUSEHOLDS, OVER_TIME, FRESH),
        max_keys=(FRESH,),
        snapshot_keys=(RESIDENTS, TYPE, AGE, ALONE, HOUSEHOLDS, FRESH),
        tracks=("persons", "households", "residences"),
        indicators=[
            Indicator(
                RESIDENTS,
                _("Residents"),
                _("People on the population roll whose area lies here, of every type."),
                personal=True,
                choropleth=True,
            ),
            Indicator(
                HOUSEHOLDS,
                _("Households"),
                _(
                    "Households (户) registered or living in a dwelling here, collective ones "
                    "included."
                ),
                personal=True,
                choropleth=True,
            ),
            Indicator(
                "pop.by_type",
                _("Residents by type"),
                _(
                    "Registered residents (户籍常住), floating population (流动人口) and foreign "
                    "residents (境外), as recorded on the roll."
                ),
                chart="pie",
                personal=True,
            ),
            Indicator(
                "pop.pyramid",
                _("Age pyramid"),
                _(
                    "Residents by sex and age in five-year bands, age on the day of the rollup. "
                    "People without a birth date or of unknown sex are not shown."
                ),
                chart="pyramid",
                personal=True,
            ),
            Indicator(
                ALONE,
                _("Elderly living alone"),
                _("Residents aged 60 or over who are the only member of their household."),
                personal=True,
                choropleth=True,
            ),
            Indicator(
                "pop.floating",
                _("Floating population"),
                _("Residents recorded as floating population (流动人口)."),
                chart="map",
                personal=True,
                choropleth=True,
            ),
            Indicator(
                "pop.over_time",
                _("Residents over time"),
                _(
                    "Residences active at the end of each month of the last two years, and "
                    "today: a residence counts from its start date until its end date."
                ),
                chart="line",
                personal=True,
            ),
            Indicator(
                "pop.freshness",
                _("Population data last changed"),
                _("The latest change to any resident's record here."),
                chart="time",
            ),
        ],
    )
)
