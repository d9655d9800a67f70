"""Chinese numerals as real lists write them: 三, 十二, 二十三, 一百零五, 两, 〇, and mixed 1十."""

from __future__ import annotations

import re

DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "壹": 1,
    "二": 2,
    "贰": 2,
    "两": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CHARS = "".join(DIGITS) + "".join(UNITS)
NUMBER = re.compile(rf"[0-9{CHARS}]+")


def to_int(text: str) -> int | None:
    """'十二' -> 12, '二十' -> 20, '一百零五' -> 105, '三〇一' -> 301, '12' -> 12; else None.

    Digit-by-digit forms (三〇一, as room numbers are read out) and positional forms (三百零一)
    are both understood. Arabic digits pass through.
    """
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(ch not in DIGITS and ch not in UNITS and not ch.isdigit() for ch in text):
        return None
    if not any(ch in UNITS for ch in text):
        # digit by digit: 三〇一 -> 301
        return int("".join(str(DIGITS[ch]) if ch in DIGITS else ch for ch in text))
    total = 0
    current = 0
    for ch in text:
        if ch.isdigit():
            current = current * 10 + int(ch)
        elif ch in DIGITS:
            current = DIGITS[ch]
        else:
            unit = UNITS[ch]
            total += (current or 1) * unit
            current = 0
    return total + current


def replace_numbers(text: str) -> str:
    """Every run of Chinese numerals in ``text`` becomes Arabic digits: 三栋二单元 -> 3栋2单元."""

    def sub(match: re.Match) -> str:
        run = match.group(0)
        value = to_int(run)
        return run if value is None else str(value)

    return NUMBER.sub(sub, text or "")
