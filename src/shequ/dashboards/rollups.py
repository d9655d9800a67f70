"""Computing and keeping the rollups.

* ``rebuild(modules=None)`` — the nightly full rebuild (``shequ rebuild_rollups``): each
  provider runs a few GROUP BY queries on the deepest area code (grid or community) and the
  compound code (a substring of the dwelling code), the results are summed up the tree by code
  prefix (a handful of rows per area, never the raw rows) and written in bulk (``COPY`` on
  PostgreSQL), replacing the provider's rows in one transaction.
* ``track(persons=[...], cases=[...])`` — a context manager services wrap a change in: the
  touched objects' contributions are taken before and after and the difference is applied to
  the rollups of every level when the transaction commits. ``signals.py`` does the same for
  models that have no service yet (people).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Substr
from django.utils import timezone

from shequ.areas.models import Area, Place, PlaceKind

from . import registry
from .models import Rollup, RollupRun

log = logging.getLogger(__name__)

COMPOUND = "compound"


class Tree:
    """The area codes and levels, compound codes, and each code's chain of ancestors."""

    def __init__(self):
        self.level: dict[str, str] = dict(Area.objects.values_list("code", "level"))
        self.compounds: set[str] = set(
            Place.objects.filter(kind=PlaceKind.COMPOUND).values_list("code", flat=True)
        )
        self.compound_lengths = sorted({len(c) for c in self.compounds})
        self._chains: dict[str, list[tuple[str, str]]] = {}

    def chain(self, code: str) -> list[tuple[str, str]]:
        """[(code, level)] of the areas ``code`` lies in, itself included, root first."""
        found = self._chains.get(code)
        if found is None:
            found = [
                (code[:n], self.level[code[:n]])
                for n in range(1, len(code) + 1)
                if code[:n] in self.level
            ]
            self._chains[code] = found
        return found

    def compound_of(self, place_code: str | None) -> str:
        if not place_code:
            return ""
        for n in self.compound_lengths:
            if place_code[:n] in self.compounds:
                return place_code[:n]
        return ""


class Compounds:
    """``compound_of`` for a few place codes: one query for the compounds among their
    prefixes (instead of loading every compound as ``Tree`` does)."""

    def __init__(self, place_codes):
        prefixes = sorted({c[:n] for c in place_codes if c for n in range(1, len(c) + 1)})
        self.compounds = set()
        for i in range(0, len(prefixes), 5000):  # within SQLite's limit of query parameters
            self.compounds.update(
                Place.objects.filter(
                    kind=PlaceKind.COMPOUND, code__in=prefixes[i : i + 5000]
                ).values_list("code", flat=True)
            )

    def compound_of(self, place_code: str | None) -> str:
        if not place_code:
            return ""
        for n in range(len(place_code), 0, -1):
            if place_code[:n] in self.compounds:
                return place_code[:n]
        return ""


@dataclass
class Context:
    """What a provider's ``compute`` may use: the day, the tree, the compound code lengths."""

    as_of: dt.date
    tree: Tree
    now: dt.datetime = field(default_factory=timezone.now)


def grouped(queryset, dims: list, value, *, area_field="area_code", place_field=None, tree):
    """Rows (area_code, compound_code, dim values..., value) of one GROUP BY.

    ``dims`` are field names or expressions. Groups by the deepest area code and, where
    ``place_field`` names a dwelling (or compound) code, by its compound prefix as well: one
    query per distinct length of compound codes (normally one). Rows whose place lies in no
    compound get compound "".
    """
    ann = {f"_d{i}": (F(d) if isinstance(d, str) else d) for i, d in enumerate(dims)}
    names = list(ann)
    # ``value`` may be a list of aggregates: each row then ends with all of them.
    aggs = {
        f"_v{i}": v for i, v in enumerate(value if isinstance(value, list | tuple) else [value])
    }
    vals = list(aggs)
    queryset = queryset.order_by()
    if place_field is None or not tree.compound_lengths:
        rows = (
            queryset.annotate(**ann)
            .values(area_field, *names)
            .annotate(**aggs)
            .values_list(area_field, *names, *vals)
        )
        for row in rows:
            yield (row[0], "", *row[1:])
        return
    first, *others = tree.compound_lengths
    rows = (
        queryset.annotate(_compound=Substr(place_field, 1, first), **ann)
        .values(area_field, "_compound", *names)
        .annotate(**aggs)
        .values_list(area_field, "_compound", *names, *vals)
    )
    for area_code, compound, *rest in rows:
        compound = compound if compound in tree.compounds else ""
        yield (area_code, compound, *rest)
    for length in others:  # compounds with codes of another length: their rows only
        rows = (
            queryset.annotate(_compound=Substr(place_field, 1, length), **ann)
            .values("_compound", *names)
            .annotate(**aggs)
            .values_list("_compound", *names, *vals)
        )
        for compound, *rest in rows:
            if compound in tree.compounds:
                yield (None, compound, *rest)


def roll_up(rows, provider, ctx: Context) -> dict[tuple[str, str, dt.date, str, str], int]:
    """Sum (or max) the deepest-level rows up every level: {(code, level, day, key, dim): v}."""
    out: dict = {}
    max_keys = set(provider.max_keys)
    for area_code, compound, day, key, dim, value in rows:
        if value is None:
            continue
        value = int(value)
        day = day or ctx.as_of
        targets = ctx.tree.chain(area_code) if area_code else []
        if compound:
            targets = [*targets, (compound, COMPOUND)]
        for code, level in targets:
            cell = (code, level, day, key, dim)
            if key in max_keys:
                if value > out.get(cell, value - 1):
                    out[cell] = value
            else:
                out[cell] = out.get(cell, 0) + value
    return out


def _write(cells: dict) -> int:
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        for (code, level, day, key, dim), value in cells.items():
            buffer.write(f"{code}\t{level}\t{day.isoformat()}\t{key}\t{dim}\t{value}\n")
        buffer.seek(0)
        table = Rollup._meta.db_table
        with connection.cursor() as cursor:
            sql = f"COPY {table} (area_code, level, day, key, dim, value) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                while chunk := buffer.read(1 << 20):
                    copy.write(chunk)
    else:
        Rollup.objects.bulk_create(
            (
                Rollup(area_code=code, level=level, day=day, key=key, dim=dim, value=value)
                for (code, level, day, key, dim), value in cells.items()
            ),
            batch_size=2000,
        )
    return len(cells)


def rebuild(modules=None, *, as_of: dt.date | None = None, stdout=None) -> dict[str, dict]:
    """Recompute the rollups of the given modules (all by default) in one transaction."""
    as_of = as_of or timezone.localdate()
    report = {}
    with transaction.atomic():
        ctx = Context(as_of=as_of, tree=Tree())
        for provider in registry.providers(modules):
            started, t0 = timezone.now(), time.perf_counter()
            cells = roll_up(provider.compute(ctx), provider, ctx)
            Rollup.objects.filter(key__in=provider.keys).delete()
            written = _write(cells)
            RollupRun.objects.create(
                module=provider.module,
                as_of=as_of,
                started_at=started,
                finished_at=timezone.now(),
                rows=written,
            )
            seconds = time.perf_counter() - t0
            report[provider.module] = {"rows": written, "seconds": round(seconds, 2)}
            if stdout is not None:
                stdout.write(f"{provider.module}: {written} rows in {seconds:.1f} s\n")
    return report


# --- incremental updates -------------------------------------------------------------------


def snapshot_day(module: str) -> dt.date:
    """The day of a module's current snapshot rows: its last rebuild's ``as_of``, or today."""
    run = RollupRun.objects.filter(module=module).order_by("-finished_at").first()
    return run.as_of if run else timezone.localdate()


def contributions(**objects) -> dict[str, dict]:
    """{module: cells} of the given objects (``persons=[ids]`` ...) as they are now."""
    result = {}
    today = timezone.localdate()
    for provider in registry.providers():
        wanted = {k: v for k, v in objects.items() if k in provider.tracks and v}
        if wanted:
            result[provider.module] = provider.cells(today, **wanted)
    return result


def difference(before: dict[str, dict], after: dict[str, dict]) -> dict[str, dict]:
    out = {}
    for module in set(before) | set(after):
        provider = registry.get(module)
        b, a = before.get(module, {}), after.get(module, {})
        cells = {}
        for cell in set(b) | set(a):
            if cell[3] in provider.max_keys:
                if cell in a and a[cell] != b.get(cell):
                    cells[cell] = ("max", a[cell])
            elif a.get(cell, 0) != b.get(cell, 0):
                cells[cell] = ("add", a.get(cell, 0) - b.get(cell, 0))
        if cells:
            out[module] = cells
    return out


def apply(diff: dict[str, dict]) -> int:
    """Apply a difference (from ``difference``) to the rollups of every level.

    A cell's compound may be given as the code of a place inside it (a dwelling's, as the
    screening provider does to save a query): it counts for the compound that place lies in,
    if any.

    A few queries whatever the size of the city or of the difference (up to 500 cells per
    statement): the levels of the areas the cells lie in (their code prefixes), the compounds
    among the places' code prefixes, a module's snapshot day if a cell of a snapshot indicator
    has none, then one upsert per kind of change
    (``INSERT … ON CONFLICT (area_code, key, day, dim) DO UPDATE SET value = value + new``, or
    the greater of the two), its rows in a fixed order so that concurrent flushes lock them in
    the same order."""
    if not diff:
        return 0
    area_codes = {cell[0] for cells in diff.values() for cell in cells if cell[0]}
    prefixes = sorted({code[:n] for code in area_codes for n in range(1, len(code) + 1)})
    levels = {}
    for i in range(0, len(prefixes), 5000):  # within SQLite's limit of query parameters
        chunk = prefixes[i : i + 5000]
        levels.update(Area.objects.filter(code__in=chunk).values_list("code", "level"))
    compounds = Compounds({cell[1] for cells in diff.values() for cell in cells if cell[1]})
    chains: dict[str, list[tuple[str, str]]] = {}
    merged: dict[tuple, list] = {}
    for module, cells in diff.items():
        snap = None  # the module's snapshot day, read for the first cell without a day
        for (area_code, compound, day, key, dim), (op, value) in cells.items():
            if day is None:
                day = snap = snap or snapshot_day(module)
            targets = chains.get(area_code)
            if targets is None:
                targets = chains[area_code] = [
                    (area_code[:n], levels[area_code[:n]])
                    for n in range(1, len(area_code) + 1)
                    if area_code[:n] in levels
                ]
            compound = compounds.compound_of(compound)  # a place code: its compound
            for code, level in [*targets, (compound, COMPOUND)] if compound else targets:
                slot = merged.setdefault((code, key, day, dim), [level, op, 0])
                if op == "max":
                    slot[1], slot[2] = "max", max(slot[2], value)
                else:
                    slot[2] += value
    rows = {"add": [], "max": []}
    for cell in sorted(merged):
        level, op, value = merged[cell]
        if op == "max" or value:
            rows[op].append((cell, level, value))
    with transaction.atomic():
        for op, items in rows.items():
            for start in range(0, len(items), 500):
                _upsert(items[start : start + 500], op)
    return len(rows["add"]) + len(rows["max"])


def _upsert(items: list[tuple], op: str) -> None:
    """Add to (``op`` "add") or raise to (``"max"``) the cells' values, creating missing cells."""
    q = connection.ops.quote_name
    table = q(Rollup._meta.db_table)
    value = q("value")
    if op == "max":
        greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
        new = f"{greatest}({table}.{value}, EXCLUDED.{value})"
    else:
        new = f"{table}.{value} + EXCLUDED.{value}"
    columns = ("area_code", "level", "day", "key", "dim", "value")
    params: list = []
    for (code, key, day, dim), level, amount in items:
        params += [code, level, connection.ops.adapt_datefield_value(day), key, dim, amount]
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES "
        f"{', '.join([one] * len(items))} ON CONFLICT ({q('area_code')}, {q('key')}, "
        f"{q('day')}, {q('dim')}) DO UPDATE SET {value} = {new}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def track(**objects):
    """Wrap a change in this: the rollups follow it once the transaction commits.

        with rollups.track(persons=[person.pk], households=[old.pk, new.pk]):
            person.household = new
            person.save()

    Object kinds: see the providers' ``tracks`` (persons, households, residences, facilities,
    cases, visits ...). Pass the ids of everything the change touches (both households of a
    move); ids of objects created inside the block can be added to the lists in place.
    """
    before = contributions(**objects)
    yield objects
    after = contributions(**objects)
    diff = difference(before, after)
    if diff:
        transaction.on_commit(lambda: apply(diff))
