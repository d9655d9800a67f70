"""Written-out INSERTs for the hot write paths (a visit sync, a case intake, the audit trail).

The ORM's ``save`` and ``bulk_create`` take longer to build an INSERT of a few rows than the
database takes to run it, on every request. ``insert`` writes the same statement directly:
the values go through each field's ``get_db_prep_save``, as the ORM would; no signals are
sent (as with ``bulk_create``). Use it where the rows are plain and the caller has every value.
``create`` saves one new model instance the same way, as ``Model.save`` would: the fields'
``pre_save`` (``auto_now_add``, derived hashes), ``pre_save`` and ``post_save`` sent to their
receivers (the audit trail, the rollups), the new id set on the instance.
"""

from __future__ import annotations

from functools import cache

from django.db import connection, connections
from django.db.models.signals import post_save, pre_save

CHUNK = 500  # rows per statement


@cache
def _statement(model, columns, skip_conflicts_on, returning, alias):
    """The fields of ``columns`` and the statement for n rows (both built once per process)."""
    meta = model._meta
    q = connections[alias].ops.quote_name
    fields = tuple(meta.get_field(name) for name in columns)
    names = ", ".join(q(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" ON CONFLICT ({q(meta.get_field(skip_conflicts_on).column)}) DO NOTHING" if (
        skip_conflicts_on) else ""  # fmt: skip
    if returning:
        tail += " RETURNING " + ", ".join(q(meta.get_field(c).column) for c in returning)
    head = f"INSERT INTO {q(meta.db_table)} ({names}) VALUES "

    @cache
    def statement(n: int) -> str:
        return f"{head}{', '.join([one] * n)}{tail}"

    return fields, statement


def insert(
    model, columns: tuple[str, ...], rows: list[tuple], *, skip_conflicts_on: str = "",
    returning: tuple[str, ...] = (), using: str | None = None
) -> list[tuple]:  # fmt: skip
    """INSERT ``rows`` (tuples of values in the order of ``columns``, field names; a foreign key
    takes the related row's id) into ``model``'s table, up to ``CHUNK`` rows per statement.

    ``skip_conflicts_on``: a unique column; a row clashing with a stored one is skipped
    (``ON CONFLICT (column) DO NOTHING``). ``returning``: columns to return for each row
    inserted (PostgreSQL; SQLite from 3.35). Returns those rows, converted as the database
    hands them back."""
    conn = connections[using] if using else connection
    fields, statement = _statement(model, columns, skip_conflicts_on, returning, conn.alias)
    out: list[tuple] = []
    with conn.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = []
            for row in chunk:
                params.extend(
                    f.get_db_prep_save(value, conn) for f, value in zip(fields, row, strict=True)
                )
            cursor.execute(statement(len(chunk)), params)
            if returning:
                out.extend(cursor.fetchall())
    return out


@cache
def _create_fields(model) -> tuple:
    """The fields ``create`` writes: every concrete one but an automatic primary key."""
    meta = model._meta
    if meta.parents or meta.proxy:
        raise TypeError(f"rows.create does not write inherited or proxy models ({meta.label})")
    return tuple(f for f in meta.concrete_fields if not (f.primary_key and f.db_returning))


def create(instance, *, using: str | None = None):
    """INSERT the new ``instance`` as ``instance.save(force_insert=True)`` would, and return it
    with its id: fields prepared as for an insert, ``pre_save`` and ``post_save`` sent
    (``created=True``), the instance saved (``_state``). One statement, built without the ORM's
    query compiler."""
    model = type(instance)
    using = using or instance._state.db or "default"
    meta = model._meta
    instance._prepare_related_fields_for_save(operation_name="save")
    pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    fields = _create_fields(model)
    auto_pk = meta.pk not in fields
    if not auto_pk and getattr(instance, meta.pk.attname) is None:
        setattr(instance, meta.pk.attname, meta.pk.get_pk_value_on_save(instance))
    values = tuple(f.pre_save(instance, True) for f in fields)
    for f, value in zip(fields, values, strict=True):
        if hasattr(value, "resolve_expression"):  # db_default, F(), ...: the ORM's business
            raise TypeError(f"rows.create writes plain values, not {value!r} ({f.name})")
    written = insert(
        model,
        tuple(f.name for f in fields),
        [values],
        returning=(meta.pk.name,) if auto_pk else (),
        using=using,
    )
    if auto_pk:
        setattr(instance, meta.pk.attname, written[0][0])
    instance._state.adding = False
    instance._state.db = using
    post_save.send(
        sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using
    )
    return instance
