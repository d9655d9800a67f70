"""How raw records are shown: every column as read, the personal ones (ID numbers, phones)
masked as everywhere else. Which columns are personal comes from the source definition."""

from __future__ import annotations

from functools import lru_cache

from shequ.core.masking import mask_id_number, mask_phone

from .ingest import definitions

MASK_BY_FIELD = {"id_number": mask_id_number, "phone": mask_phone}


@lru_cache(maxsize=64)
def _personal_columns(source: str) -> dict[str, str]:
    defn = definitions().get(source)
    if defn is None:
        return {}
    out = {}
    for field, spec in defn.fields.items():
        if field in MASK_BY_FIELD:
            for column in spec.columns:
                out[column] = field
    return out


def mask_value(field: str, value: str) -> str:
    mask = MASK_BY_FIELD[field]
    parts = [p for p in value.replace("／", "/").split("/")]
    return "/".join(mask(p.strip()) for p in parts)


def masked_raw(record) -> list[tuple[str, str]]:
    """(column, text) of the raw row, personal columns masked."""
    personal = _personal_columns(record.source.code)
    out = []
    for column, value in (record.raw or {}).items():
        value = "" if value is None else str(value)
        if column in personal and value:
            value = mask_value(personal[column], value)
        out.append((column, value))
    return out


def record_rows(records) -> list[dict]:
    """Side-by-side rows for the review page."""
    return [{"record": r, "raw": masked_raw(r)} for r in records]
