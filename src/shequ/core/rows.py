"""Written-out INSERTs for the hot write paths (a visit sync, a case intake).

The ORM's ``save`` and ``bulk_create`` take longer to build an INSERT of a few rows than the
database takes to run it, on every request. ``insert`` writes the same statement directly:
the values go through each field's ``get_db_prep_save``, as the ORM would; no signals are
sent (as with ``bulk_create``). Use it where the rows are plain and the caller has every value.
"""

from __future__ import annotations

from django.db import connection

CHUNK = 500  # rows per statement


def insert(
    model, columns: tuple[str, ...], rows: list[tuple], *, skip_conflicts_on: str = "",
    returning: tuple[str, ...] = ()
) -> list[tuple]:  # fmt: skip
    """INSERT ``rows`` (tuples of values in the order of ``columns``, field names; a foreign key
    takes the related row's id) into ``model``'s table, up to ``CHUNK`` rows per statement.

    ``skip_conflicts_on``: a unique column; a row clashing with a stored one is skipped
    (``ON CONFLICT (column) DO NOTHING``). ``returning``: columns to return for each row
    inserted (PostgreSQL; SQLite from 3.35). Returns those rows, converted as the database
    hands them back."""
    meta = model._meta
    q = connection.ops.quote_name
    fields = [meta.get_field(name) for name in columns]
    names = ", ".join(q(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" ON CONFLICT ({q(meta.get_field(skip_conflicts_on).column)}) DO NOTHING" if (
        skip_conflicts_on) else ""  # fmt: skip
    if returning:
        tail += " RETURNING " + ", ".join(q(meta.get_field(c).column) for c in returning)
    out: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            params = []
            for row in chunk:
                params.extend(
                    f.get_db_prep_save(value, connection)
                    for f, value in zip(fields, row, strict=True)
                )
            cursor.execute(
                f"INSERT INTO {q(meta.db_table)} ({names}) VALUES "
                f"{', '.join([one] * len(chunk))}{tail}",
                params,
            )
            if returning:
                out.extend(cursor.fetchall())
    return out
