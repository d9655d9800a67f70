"""Model fields for personal data at rest: encrypted text and JSON, and keyed lookup hashes.

``EncryptedTextField`` stores ``crypto.encrypt(value)`` and gives back the plain value on load
(``from_db_value``), so code reads ``person.id_number`` as before. It cannot be searched in the
database (a random nonce makes every ciphertext different): a lookup other than ``= ''`` or
``IS NULL`` raises, and exact search goes through the ``KeyedHashField`` beside it::

    Person.objects.filter(id_number_hash=hash_id("51010819900307123X"))

``KeyedHashField(source="id_number", kind="id_number")`` computes itself on save
(``pre_save``); writers that bypass ``save`` (``people.bulk.fast_insert``, the demo seeder's
``Writer``) call ``pre_save`` / ``hash_for`` too. ``QuerySet.update(id_number=...)`` does not
recompute it: change personal fields through ``save``.

Its index is declared in the model's ``Meta.indexes`` (``models.Index(fields=["id_number_hash"])``),
not with ``db_index``: a hash is only ever looked up exactly, and on PostgreSQL ``db_index`` on a
text column adds a second, ``varchar_pattern_ops`` index for ``LIKE`` that no query uses and
every write pays for. A system check (``shequ.E001``/``E002``) holds every model to that.
"""

from __future__ import annotations

import json

from django.core import checks
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from . import crypto


class _EmptyOnlyExact(Exact):
    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.target.model.__name__}.{self.lhs.target.name} is encrypted: look it "
                f"up by its keyed hash ({self.lhs.target.name}_hash)"
            )
        return super().get_prep_lookup()


class _Encrypted:
    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        return None  # Django then raises FieldError: unsupported lookup

    def get_transform(self, lookup_name):
        return None


class EncryptedTextField(_Encrypted, models.TextField):
    """Text encrypted at rest (AES-256-GCM, key from SHEQU_DATA_KEY); plain in Python."""

    def from_db_value(self, value, expression, connection):
        return crypto.decrypt(value)

    def get_db_prep_save(self, value, connection):
        value = self.get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(value)

    def encrypt(self, value):
        """The stored form of a plain value (for writers that bypass the ORM)."""
        return crypto.encrypt(value or "")


class EncryptedJSONField(_Encrypted, models.TextField):
    """A JSON value encrypted at rest as one text; a dict/list in Python. Not queryable."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", dict)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        plain = crypto.decrypt(value)
        return json.loads(plain) if plain else None

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value):
        return value

    def get_db_prep_save(self, value, connection):
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, ensure_ascii=False, default=str))

    def encrypt(self, value):
        return crypto.encrypt(json.dumps(value, ensure_ascii=False, default=str))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, default=str)


class KeyedHashField(models.CharField):
    """HMAC-SHA256 (SHEQU_HASH_KEY) of another field, for exact lookup; computed on save.
    Index it in ``Meta.indexes`` (see the module)."""

    def __init__(self, *args, source: str, kind: str, **kwargs):
        self.source = source
        self.kind = kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        for key, value in (("max_length", 64), ("blank", True), ("default", "")):
            if kwargs.get(key) == value:
                del kwargs[key]
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        model = getattr(self, "model", None)
        if model is None or model._meta.abstract:
            return errors
        where = f"{model._meta.label}.{self.name}"
        if self.db_index or self.unique:
            errors.append(
                checks.Error(
                    f"{where}: a keyed hash is looked up exactly; index it in Meta.indexes, not "
                    "with db_index or unique (on PostgreSQL they add an unused LIKE index).",
                    obj=self,
                    id="shequ.E001",
                )
            )
        elif not any(
            index.fields and index.fields[0].lstrip("-") == self.name
            for index in model._meta.indexes
        ):
            errors.append(
                checks.Error(
                    f"{where}: a keyed hash is for lookups: declare "
                    f'models.Index(fields=["{self.name}"]) in Meta.indexes.',
                    obj=self,
                    id="shequ.E002",
                )
            )
        return errors

    def hash_for(self, plain) -> str:
        return crypto.keyed_hash(self.kind, plain or "")

    def pre_save(self, model_instance, add):
        value = self.hash_for(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def hash_fields(model) -> list[KeyedHashField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, KeyedHashField)]
