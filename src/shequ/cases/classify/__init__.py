"""Request text -> category, with a confidence, suggested at intake.

    from shequ.cases.classify import suggest
    code, confidence = suggest("小区门口的路灯坏了一个月，晚上很黑")   # ("urban_rural", 0.389)

``suggest`` uses the trained model installed at ``model_path()`` when there is one (trained by
``shequ train_classifier`` from a labelled file or from the city's own closed cases), else the
keyword rules of ``keywords.py``, else ``(None, 0.0)``. The model is read once and kept in memory;
it is read again when the file changes, so a retrained model is picked up without a restart.

No model is shipped with Shequ: a model is produced at run time from the city's data and stored
outside the package (``VAR_DIR/models/classifier.npz`` or ``settings.SHEQU_CLASSIFIER_MODEL``).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .categories import BY_CODE, CODES, SECTORS, Sector, code_for_label
from .keywords import keyword_suggest
from .model import (
    KINDS,
    Model,
    TrainingError,
    cross_validate,
    embed_titles,
    evaluate,
    load,
    train,
)

__all__ = [
    "BY_CODE",
    "CODES",
    "KINDS",
    "SECTORS",
    "Model",
    "Sector",
    "TrainingError",
    "code_for_label",
    "cross_validate",
    "embed_titles",
    "evaluate",
    "installed_model",
    "keyword_suggest",
    "load",
    "model_path",
    "rank",
    "suggest",
    "train",
]

log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict[str, object] = {"key": None, "model": None}


def model_path() -> Path:
    """Where the installed model lives: ``settings.SHEQU_CLASSIFIER_MODEL`` if set, else
    ``VAR_DIR/models/classifier.npz``."""
    from django.conf import settings

    configured = getattr(settings, "SHEQU_CLASSIFIER_MODEL", None)
    if configured:
        return Path(configured)
    return Path(settings.VAR_DIR) / "models" / "classifier.npz"


def installed_model() -> Model | None:
    """The installed model, read once per file version; None when there is none (or it cannot
    be read: intake must go on, so the error is logged and the keyword rules take over)."""
    path = model_path()
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if _cache["key"] == key:
        return _cache["model"]
    with _lock:
        if _cache["key"] != key:
            try:
                model = load(path)
            except ValueError as exc:
                log.error("classifier model not used: %s", exc)
                model = None
            _cache["model"], _cache["key"] = model, key
    return _cache["model"]


def suggest(text: str, title: str = "") -> tuple[str | None, float]:
    """(category code, confidence 0-1) for a request's text (and title when it has one)."""
    if not (text or "").strip() and not (title or "").strip():
        return None, 0.0
    model = installed_model()
    if model is not None:
        return model.suggest(text or "", title or "")
    return keyword_suggest(text or "", title or "")


def rank(text: str, title: str = "", k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` likeliest categories with their confidence (the model's, or the keyword
    rules' best alone); empty for an empty text."""
    if not (text or "").strip() and not (title or "").strip():
        return []
    model = installed_model()
    if model is not None:
        return model.rank(text or "", title or "")[:k]
    code, confidence = keyword_suggest(text or "", title or "")
    return [(code, confidence)] if code else []
