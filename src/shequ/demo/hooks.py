"""How other apps add their part of the demo city.

After the city, its people and the demo accounts exist, ``shequ seed`` calls
``seed_demo(ctx)`` of every installed app that has a ``demo`` module (``shequ.cases.demo``,
``shequ.campaigns.demo`` …), in ``INSTALLED_APPS`` order, inside the seed's transaction. Each
returns a one-line summary for the seed's output. Deterministic: use ``ctx.rng(name)``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps


@dataclass(frozen=True)
class DemoContext:
    seed: int
    residents: int
    street: str  # codes of the demo accounts' street, community and grid
    community: str
    grid: str
    log: Callable[[str], None]

    def rng(self, name: str) -> random.Random:
        """A random generator of its own per app, so one app's demo does not shift another's."""
        return random.Random(f"{self.seed}:{name}")


def demo_modules():
    for config in apps.get_app_configs():
        if config.name == "shequ.demo" or not config.name.startswith("shequ."):
            continue
        name = f"{config.name}.demo"
        if find_spec(name) is not None:
            module = import_module(name)
            if hasattr(module, "seed_demo"):
                yield config.label, module


def run_all(ctx: DemoContext) -> list[str]:
    summaries = []
    for label, module in demo_modules():
        ctx.log(f"demo data of {label}")
        summaries.append(f"{label}: {module.seed_demo(ctx)}")
    return summaries
