"""Display masks for personal fields (GB/T 35273 de-identified display)."""

from __future__ import annotations


def mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_id_number(value: str) -> str:
    """'51010819900307123X' -> '5101***********23X' (region prefix and last three kept)."""
    return mask_middle(value or "", 4, 3)


def mask_phone(value: str) -> str:
    """'13856785678' -> '138****5678'; a landline keeps its area code and last four."""
    if not value:
        return ""
    if value.startswith("0") and len(value) > 8:
        area = 4 if value[1] in "3456789" and len(value) >= 11 else 3
        return mask_middle(value, area, 4)
    return mask_middle(value, 3, 4)


def mask_name(value: str) -> str:
    """'张三丰' -> '张**' (for views that may not show names, e.g. public pages)."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
