"""Fast bulk writes for big imports: prepared statements and ``executemany`` instead of the
ORM's per-object SQL building (``bulk_create`` / ``bulk_update`` spend most of their time
there for millions of rows)."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from shequ.core.fields import hash_fields


def fast_insert(model, objs, chunk: int = 5000) -> None:
    """Insert unsaved model instances (no primary keys returned)."""
    if not objs:
        return
    meta = model._meta
    now = timezone.now()
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        qn(meta.db_table),
        ", ".join(qn(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    auto = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    hashes = hash_fields(model)  # keyed lookup hashes of encrypted fields, computed as on save
    for obj in objs:
        for f in auto:
            setattr(obj, f.attname, now)
        for f in hashes:
            f.pre_save(obj, True)
    with connection.cursor() as cursor:
        for i in range(0, len(objs), chunk):
            cursor.executemany(
                sql,
                [
                    [f.get_db_prep_save(getattr(o, f.attname), connection) for f in fields]
                    for o in objs[i : i + chunk]
                ],
            )


def fast_update(model, objs, attnames: list[str], chunk: int = 5000) -> None:
    """``bulk_update`` without its CASE expressions: one prepared UPDATE, executemany."""
    if not objs:
        return
    meta = model._meta
    fields = [meta.get_field(a[:-3] if a.endswith("_id") else a) for a in attnames]
    # An encrypted field's keyed lookup hash changes with it.
    hashes = [f for f in hash_fields(model) if f.source in attnames and f not in fields]
    for obj in objs:
        for f in hashes:
            f.pre_save(obj, False)
    fields += hashes
    qn = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        qn(meta.db_table), ", ".join(f"{qn(f.column)} = %s" for f in fields), qn(meta.pk.column)
    )
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        for i in range(0, len(rows), chunk):
            cursor.executemany(sql, rows[i : i + chunk])
