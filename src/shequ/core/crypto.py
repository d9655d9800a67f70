"""Encryption at rest for ID numbers and phones, and keyed hashes for exact lookup.

Keys come from the environment (see docs/data-protection.md, "Encryption at rest"):

* ``SHEQU_DATA_KEY``: one or more ``<key id>:<32 bytes, url-safe base64>`` separated by commas.
  The first key encrypts; every listed key decrypts (rotation: put the new key first, run
  ``shequ rotate_data_key``, then drop the old one).
* ``SHEQU_HASH_KEY``: the HMAC-SHA256 key of the lookup hashes (never rotated in place: a new
  hash key means recomputing every hash column, ``shequ rotate_data_key --rehash``).

A ciphertext is text: ``e1.<key id>.<base64(nonce ‖ AES-256-GCM ciphertext ‖ tag)>``, the key
id also bound as associated data. The empty string stays empty (it tells nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "e1."


class DataKeyError(RuntimeError):
    pass


@lru_cache(maxsize=8)
def _parse(spec: str) -> tuple[str, dict[str, AESGCM]]:
    keys: dict[str, AESGCM] = {}
    current = ""
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kid, sep, material = part.partition(":")
        if not sep or not kid or "." in kid:
            raise DataKeyError("SHEQU_DATA_KEY: each key is '<id>:<base64 of 32 bytes>'")
        raw = base64.urlsafe_b64decode(material + "=" * (-len(material) % 4))
        if len(raw) != 32:
            raise DataKeyError(f"SHEQU_DATA_KEY: key {kid!r} is not 32 bytes")
        keys[kid] = AESGCM(raw)
        current = current or kid
    if not keys:
        raise DataKeyError("SHEQU_DATA_KEY holds no key")
    return current, keys


def _keys() -> tuple[str, dict[str, AESGCM]]:
    return _parse(settings.SHEQU_DATA_KEY)


def current_key_id() -> str:
    return _keys()[0]


def encrypt(plain: str) -> str:
    if not plain:
        return ""
    kid, keys = _keys()
    nonce = os.urandom(12)
    sealed = keys[kid].encrypt(nonce, plain.encode(), kid.encode())
    return f"{PREFIX}{kid}.{base64.b64encode(nonce + sealed).decode()}"


def key_id_of(stored: str) -> str | None:
    """The key id of a ciphertext; None for a legacy plain value (before encryption)."""
    if not stored or not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX) :].split(".", 1)[0]


def decrypt(stored: str | None) -> str:
    if not stored:
        return stored if stored is not None else ""
    if not stored.startswith(PREFIX):
        return stored  # a value written before encryption; `rotate_data_key` encrypts it
    kid, _sep, body = stored[len(PREFIX) :].partition(".")
    keys = _keys()[1]
    if kid not in keys:
        raise DataKeyError(f"no key {kid!r} in SHEQU_DATA_KEY to decrypt a stored value")
    blob = base64.b64decode(body)
    return keys[kid].decrypt(blob[:12], blob[12:], kid.encode()).decode()


@lru_cache(maxsize=8)
def _hash_key(spec: str) -> bytes:
    return spec.encode()


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised value, hex; '' for an empty value."""
    value = normalise(kind, value)
    if not value:
        return ""
    key = _hash_key(settings.SHEQU_HASH_KEY)
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def normalise(kind: str, value: str | None) -> str:
    value = (value or "").strip()
    if kind == "phone":
        return "".join(ch for ch in value if ch.isdigit())
    return value.upper()


def hash_id(value: str) -> str:
    """The lookup hash of an ID number: ``Person.objects.filter(id_number_hash=hash_id(x))``."""
    return keyed_hash("id_number", value)


def hash_phone(value: str) -> str:
    return keyed_hash("phone", value)
