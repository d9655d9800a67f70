"""Encrypt legacy plain values, re-encrypt under the current key, recompute lookup hashes.

Used by the migrations that introduced encryption and by ``shequ rotate_data_key``. Works on
raw column values in batches (one SELECT and one ``executemany`` UPDATE per batch), so it runs
on historical models in migrations and on millions of rows alike; plain values exist only in
memory, per batch.
"""

from __future__ import annotations

from django.db import connections

from . import crypto
from .fields import EncryptedJSONField, EncryptedTextField, KeyedHashField


def encrypted_fields(model) -> list:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (EncryptedTextField, EncryptedJSONField))
    ]


def rekey_model(model, *, batch: int = 2000, rehash: bool = False, using: str = "default") -> int:
    """Rewrite the rows of ``model`` whose ciphertext is not under the current key (or plain);
    with ``rehash``, every row's hashes are recomputed too. Returns the rows rewritten."""
    enc = encrypted_fields(model)
    if not enc:
        return 0
    hashes = [f for f in model._meta.concrete_fields if isinstance(f, KeyedHashField)]
    connection = connections[using]
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    current = crypto.current_key_id()
    cols = ", ".join(qn(f.column) for f in enc)
    targets = enc + hashes
    update = "UPDATE {} SET {} WHERE {} = %s".format(
        table, ", ".join(f"{qn(f.column)} = %s" for f in targets), pk
    )
    by_attname = {f.attname: i for i, f in enumerate(enc)}
    written, last = 0, None
    with connection.cursor() as cursor:
        while True:
            where, params = ("", []) if last is None else (f" WHERE {pk} > %s", [last])
            cursor.execute(
                f"SELECT {pk}, {cols} FROM {table}{where} ORDER BY {pk} LIMIT {int(batch)}", params
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            out = []
            for row in rows:
                stored = row[1:]
                stale = rehash or any(
                    value and crypto.key_id_of(value) != current for value in stored
                )
                if not stale:
                    continue
                plain = [crypto.decrypt(value) if value is not None else None for value in stored]
                values = [crypto.encrypt(p) if p is not None else None for p in plain]
                for h in hashes:
                    source = plain[by_attname[h.source]] if h.source in by_attname else ""
                    values.append(crypto.keyed_hash(h.kind, source or ""))
                out.append([*values, row[0]])
            if out:
                cursor.executemany(update, out)
                written += len(out)
    return written


def migration_encrypt(*labels: str):
    """A RunPython function encrypting the existing rows of the given ``app.Model`` labels."""

    def run(apps, schema_editor):
        for label in labels:
            rekey_model(apps.get_model(label), using=schema_editor.connection.alias)

    return run
