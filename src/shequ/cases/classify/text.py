"""Text clean-up shared by the keyword rules, training and prediction."""

from __future__ import annotations

import re
import unicodedata

_EXCEL_CR = re.compile(r"_x000[dDaA]_")  # carriage returns escaped by spreadsheet exports
_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits to half-width), lower case, single spaces."""
    if not text:
        return ""
    text = _EXCEL_CR.sub(" ", str(text))
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub(" ", text).strip()


def for_features(text: str) -> str:
    """``normalise`` plus every run of digits as one ``0``: numbers (dates, house numbers,
    amounts) say little about the sector and would otherwise fill the vocabulary."""
    return _DIGITS.sub("0", normalise(text))


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """All character n-grams of ``text`` with low <= n <= high (spaces kept as separators)."""
    grams: list[str] = []
    length = len(text)
    for n in range(low, high + 1):
        grams.extend(text[i : i + n] for i in range(length - n + 1))
    return grams


def derive_title(text: str, limit: int = 40) -> str:
    """A stand-in title for a text that came without one: its first sentence, cut at
    ``limit`` characters (residents usually state the problem first)."""
    text = normalise(text)
    if not text:
        return ""
    first = _SENTENCE_END.split(text, maxsplit=1)[0].strip()
    return (first or text)[:limit]
