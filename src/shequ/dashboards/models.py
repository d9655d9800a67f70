"""Rollups: precomputed numbers per (area, day, indicator key, dimension).

A dashboard reads these rows only, never the raw rows they count. ``shequ rebuild_rollups``
recomputes every provider's rows with set-based SQL (see ``rollups.rebuild``); services call
``rollups.record_change`` so that a change shows at once (applied on commit).

* ``area_code`` is an area (city, district, street, community, grid) or a compound (place);
  ``level`` says which, so that a level's rows can be read or cleared at once.
* ``day``: for a snapshot indicator (residents by type ...) the day of the snapshot (the
  provider's ``as_of``, see ``RollupRun``); for a flow (requests opened) the day of the event;
  for a monthly series the last day of the month.
* ``dim``: the breakdown ("floating", "2:65" = female aged 65-69, a category ...), "" for none.
* ``value``: a count (or a sum, or a maximum such as a freshness time in epoch seconds). Rates
  are never stored: numerator and denominator are, so that they add up the tree.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Rollup(models.Model):
    area_code = models.CharField(_("area code"), max_length=60)
    level = models.CharField(_("level"), max_length=16)
    day = models.DateField(_("day"))
    key = models.CharField(_("indicator key"), max_length=64)
    dim = models.CharField(_("dimension"), max_length=64, blank=True, default="")
    value = models.BigIntegerField(_("value"), default=0)

    class Meta:
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["area_code", "key", "day", "dim"], name="rollup_unique_cell"
            )
        ]
        indexes = [models.Index(fields=["key", "level"], name="rollup_key_level")]

    def __str__(self) -> str:
        return f"{self.area_code} {self.day} {self.key}[{self.dim}]={self.value}"


class RollupRun(models.Model):
    """One full rebuild of one provider's rollups: when, as of which day, how long, how many."""

    module = models.CharField(_("module"), max_length=32, db_index=True)
    as_of = models.DateField(_("as of"))
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    rows = models.PositiveIntegerField(_("rows written"), default=0)

    class Meta:
        verbose_name = _("rollup run")
        verbose_name_plural = _("rollup runs")
        ordering = ["-finished_at"]

    def __str__(self) -> str:
        return f"{self.module} as of {self.as_of}"
