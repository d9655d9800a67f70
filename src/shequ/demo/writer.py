"""Fast bulk writes for the seeder: PostgreSQL ``COPY`` (psycopg 3), batched ``executemany``
elsewhere.

Rows are plain tuples in the order of the fields a :class:`Table` is declared with; primary
keys are assigned here (after the current maximum), so rows can point at each other before they
are written. Columns the seeder does not fill (fields other apps may add later) get the model
field's default, so a new field with a default never breaks the seed.
"""

from __future__ import annotations

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from shequ.core.fields import hash_fields


class SeedFieldError(RuntimeError):
    pass


def last_id(model) -> int:
    """The highest id the table has ever handed out (not reused after a reset)."""
    current = model.objects.aggregate(m=Max("pk"))["m"] or 0
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            column = model._meta.pk.column
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            sequence = cursor.fetchone()[0]
            if sequence:
                cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
                last, called = cursor.fetchone()
                current = max(current, last if called else last - 1)
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row:
                current = max(current, row[0])
    return current


class Table:
    def __init__(self, model, fields: list[str]):
        self.model = model
        meta = model._meta
        self.fields = ["id", *fields]
        attnames = {f.attname: f for f in meta.concrete_fields}
        unknown = [f for f in self.fields if f not in attnames]
        if unknown:
            raise SeedFieldError(f"{meta.label} has no field(s) {', '.join(unknown)}")
        # Personal fields encrypted at rest: the seeder writes ciphertext and the keyed lookup
        # hashes (the hash columns follow the declared ones), as the ORM would on save.
        self._encrypt = [
            (i, attnames[name])
            for i, name in enumerate(self.fields)
            if hasattr(attnames[name], "encrypt")
        ]
        self._hashes = [
            (self.fields.index(f.source), f)
            for f in hash_fields(model)
            if f.source in self.fields and f.attname not in self.fields
        ]
        self.columns = [attnames[name].column for name in self.fields]
        self.columns += [f.column for _i, f in self._hashes]
        hashed = {f.attname for _i, f in self._hashes}
        now = timezone.now()
        extra_cols, extra_vals = [], []
        for field in meta.concrete_fields:
            if field.attname in self.fields or field.attname in hashed:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.has_default():
                value = field.get_default()
            elif field.null:
                value = None
            elif field.empty_strings_allowed and field.blank:
                value = ""
            else:
                raise SeedFieldError(
                    f"the demo seeder does not know what to put in {meta.label}.{field.name}"
                )
            extra_cols.append(field.column)
            extra_vals.append(field.get_db_prep_save(value, connection))
        self.columns += extra_cols
        self.extra = tuple(extra_vals)
        self.rows: list[tuple] = []
        self.written = 0
        self._next = last_id(model) + 1

    def next_id(self) -> int:
        n = self._next
        self._next += 1
        return n

    def add(self, *values) -> int:
        """Queue a row (without its id); returns the id it gets."""
        pk = self._next
        self._next += 1
        row = (pk, *values)
        if self._encrypt or self._hashes:
            plain = row
            row = list(row)
            for i, field in self._encrypt:
                row[i] = field.encrypt(plain[i])
            row.extend(field.hash_for(plain[i]) for i, field in self._hashes)
            row = tuple(row)
        self.rows.append(row)
        return pk

    @property
    def db_table(self) -> str:
        return self.model._meta.db_table


class Writer:
    """Holds the tables in dependency order and flushes them together."""

    def __init__(self):
        self.tables: list[Table] = []
        self.postgres = connection.vendor == "postgresql"

    def table(self, model, fields: list[str]) -> Table:
        t = Table(model, fields)
        self.tables.append(t)
        return t

    def pending(self) -> int:
        return sum(len(t.rows) for t in self.tables)

    def flush(self) -> None:
        with connection.cursor() as cursor:
            for t in self.tables:
                if not t.rows:
                    continue
                extra = t.extra
                quoted = ", ".join(connection.ops.quote_name(c) for c in t.columns)
                table = connection.ops.quote_name(t.db_table)
                if self.postgres:
                    with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                        write = copy.write_row
                        if extra:
                            for row in t.rows:
                                write(row + extra)
                        else:
                            for row in t.rows:
                                write(row)
                else:
                    marks = ", ".join(["%s"] * len(t.columns))
                    sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"
                    rows = [row + extra for row in t.rows] if extra else t.rows
                    for i in range(0, len(rows), 5000):
                        cursor.executemany(sql, rows[i : i + 5000])
                t.written += len(t.rows)
                t.rows = []

    def finish(self) -> None:
        """Flush, move the id sequences past the new rows, refresh planner statistics."""
        self.flush()
        models = [t.model for t in self.tables]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
            if self.postgres:
                for t in self.tables:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(t.db_table)}")
