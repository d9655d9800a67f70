"""The registry of indicator providers, one per module (population, facilities, requests,
screening ...). A provider knows

* how to compute its rollup rows from the raw rows with set-based SQL (``compute``: a few
  GROUP BY queries on the deepest area code and the compound, rolled up the tree by
  ``rollups.rebuild``), for the nightly rebuild;
* how one object contributes to its rows (``cells``), for incremental updates: the cells of
  the touched objects are taken before and after a change and the difference is applied;
* which indicators it shows and how (``present``), reading rollup values only.

A module whose app is not installed or whose models do not exist yet is simply absent:
``available()`` is False and nothing imports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.functional import Promise

# A cell of a rollup: (deepest area code, compound code or "", day or None, key, dim).
# ``day`` None means "the provider's current snapshot day".
Cell = tuple[str, str, dt.date | None, str, str]


@dataclass(frozen=True)
class Indicator:
    """One indicator as the dashboard shows it."""

    key: str
    label: Promise | str
    definition: Promise | str
    chart: str = "number"  # number, rate, bar, pie, pyramid, line, table, map
    personal: bool = False  # counts people: small numbers suppressed for some roles
    choropleth: bool = False  # one number per child area: may shade the map


@dataclass
class Provider:
    module: str = ""
    label: Promise | str = ""
    # Rollup keys this provider owns (a rebuild replaces all their rows).
    keys: tuple[str, ...] = ()
    # Keys aggregated with MAX up the tree (freshness times) instead of SUM.
    max_keys: tuple[str, ...] = ()
    # Keys whose rows are a snapshot (day = the run's ``as_of``), not events on their day.
    snapshot_keys: tuple[str, ...] = ()
    # The object kinds ``cells`` understands (``rollups.track(persons=[...])``).
    tracks: tuple[str, ...] = ()
    indicators: list[Indicator] = field(default_factory=list)

    def available(self) -> bool:
        return True

    def compute(self, ctx) -> Iterable[tuple[str, str, dt.date | None, str, str, int]]:
        """Rows (area_code, compound_code, day, key, dim, value) at the deepest level."""
        raise NotImplementedError

    def cells(self, as_of: dt.date, **objects) -> dict[Cell, int]:
        """The contribution of the given objects (ids by kind) to the rollups, as they are."""
        return {}

    def present(self, values, ctx) -> dict:
        """This module's section of the dashboard, from rollup values (``data.Values``)."""
        raise NotImplementedError

    def child_metrics(self, values, codes, ctx) -> dict[str, dict[str, float | None]]:
        """{indicator key: {child code: number}} for the map's choropleth (``values`` holds
        each child's ``data.Values``)."""
        return {}


_PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    _PROVIDERS[provider.module] = provider
    return provider


def providers(modules: Iterable[str] | None = None) -> list[Provider]:
    """The available providers (in registration order), optionally only some modules."""
    _load()
    wanted = set(modules) if modules else None
    return [
        p for name, p in _PROVIDERS.items() if (wanted is None or name in wanted) and p.available()
    ]


def get(module: str) -> Provider | None:
    _load()
    provider = _PROVIDERS.get(module)
    return provider if provider is not None and provider.available() else None


def _load() -> None:
    # Import the providers once (they register themselves).
    from .providers import population  # noqa: F401, I001  (the order is the page's order)
    from .providers import facilities, requests, screening  # noqa: F401
