"""People, households and residences (minimal: the population-data issue builds on it)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.core import personal
from shequ.core.querysets import ScopedModel

from .choices import IdType, Relation, ResidenceKind, ResidentType, Sex


class Household(ScopedModel):
    """A household (户): the people registered or living together in one dwelling."""

    number = models.CharField(_("household number (户号)"), max_length=32, unique=True)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    dwelling = models.ForeignKey(
        "areas.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="households"
    )
    collective = models.BooleanField(_("collective household (集体户)"), default=False)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class Person(ScopedModel):
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    name_latin = models.CharField(_("name in Latin script"), max_length=150, blank=True)
    former_name = models.CharField(_("former name (曾用名)"), max_length=100, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    id_type = models.CharField(
        _("ID type"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = models.CharField(_("ID number"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    ethnicity = models.CharField(_("ethnicity (GB 3304)"), max_length=2, blank=True)
    nationality = models.CharField(_("nationality (ISO 3166)"), max_length=3, default="CHN")
    resident_type = models.CharField(
        _("resident type"), max_length=16, choices=ResidentType.choices, db_index=True
    )
    hukou_region = models.CharField(_("hukou region code"), max_length=6, blank=True)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    relation = models.CharField(
        _("relation to head"), max_length=2, choices=Relation.choices, blank=True
    )
    dwelling = models.ForeignKey(
        "areas.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="residents"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["area_code", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int | None:
        import datetime as dt

        if not self.birth_date:
            return None
        today = dt.date.today()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))


class Residence(ScopedModel):
    """A person's tie to a dwelling over time: registered, living, or floating."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="residences")
    dwelling = models.ForeignKey("areas.Place", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=ResidenceKind.choices)
    start = models.DateField(_("from"), null=True, blank=True)
    end = models.DateField(_("to"), null=True, blank=True)
    area_code = models.CharField(_("area code"), max_length=40, db_index=True)

    class Meta:
        verbose_name = _("residence")
        verbose_name_plural = _("residences")
        ordering = ["person", "-start"]


personal.register("people.person", "id_number", "id_number")
personal.register("people.person", "phone", "phone")
personal.register("people.person", "name", "name", masked=False)
personal.register("people.person", "birth_date", "birth_date", masked=False)
