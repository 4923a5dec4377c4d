"""The book's plain scikit-learn code for the benchmarked steps, timed.

Meant to run under ``python -m cuml.accel bench/sklearn_book.py DATA.npz``,
which moves the scikit-learn estimators it can onto the GPU without code
changes; ``gpuclf bench --cuml-accel`` runs it and adds a column. It imports
no gpuclf code on purpose: this is what a reader of the chapter would run.
The step labels match the pytest-benchmark suite's; the code is the book's,
so e.g. ``binary_cv+metrics+tradeoff`` trains the SGD cross-validation three
times (``cross_val_score``, ``cross_val_predict``, ``decision_function``)
where gpuclf shares one. Forest size, grid rows and the SGD epoch cap come
from the command line so that they match the suite's cpu column.

Warm-up: one untimed round per step first (the accelerator's first call pays
CUDA start-up), then ``--rounds`` timed rounds; the median is reported.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from scipy.ndimage import shift
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, precision_recall_curve, precision_score,
                             recall_score, roc_auc_score, roc_curve)
from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_val_score
from sklearn.linear_model import SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def _sgd(o):
    return SGDClassifier(random_state=42, max_iter=o.sgd_max_iter)


def binary_sgd(d, o):
    sgd = _sgd(o).fit(d["X_train"], d["y_train_5"])
    return {"some_digit_is_5": bool(sgd.predict(d["X_train"][:1])[0])}


def binary_cv_metrics_tradeoff(d, o):
    X, y5 = d["X_train"], d["y_train_5"]
    sgd = _sgd(o)
    acc = cross_val_score(sgd, X, y5, cv=3, scoring="accuracy")
    cross_val_score(DummyClassifier(), X, y5, cv=3, scoring="accuracy")
    pred = cross_val_predict(sgd, X, y5, cv=3)
    confusion_matrix(y5, pred)
    scores = cross_val_predict(sgd, X, y5, cv=3, method="decision_function")
    precisions, recalls, thresholds = precision_recall_curve(y5, scores)
    t90 = thresholds[(precisions >= 0.90).argmax()]
    return {"cv_accuracy": float(acc.mean()), "precision": precision_score(y5, pred),
            "recall": recall_score(y5, pred), "threshold_90_precision": float(t90),
            "recall_at_90": recall_score(y5, scores >= t90)}


def binary_roc(d, o):
    X, y5 = d["X_train"], d["y_train_5"]
    scores = cross_val_predict(_sgd(o), X, y5, cv=3, method="decision_function")
    roc_curve(y5, scores)
    forest = RandomForestClassifier(n_estimators=o.n_estimators, random_state=42)
    proba = cross_val_predict(forest, X, y5, cv=3, method="predict_proba")[:, 1]
    roc_curve(y5, proba)
    precision_recall_curve(y5, proba)
    return {"sgd_auc": roc_auc_score(y5, scores), "forest_auc": roc_auc_score(y5, proba),
            "forest_f1": f1_score(y5, proba >= 0.5)}


def _svc(model, n):
    def run(d, o):
        m = min(n, len(d["y_train"]))
        fitted = clone(model).fit(d["X_train"][:m], d["y_train"][:m])
        return {"test_accuracy": accuracy_score(d["y_test"], fitted.predict(d["X_test"])), "n_fit": m}
    return run


def sgd_cv(d, o):
    X, y = d["X_train"], d["y_train"]
    _sgd(o).fit(X, y)
    return {"cv_accuracy": float(cross_val_score(_sgd(o), X, y, cv=3).mean())}


def sgd_scaled_cv(d, o):
    X, y = d["X_train"], d["y_train"]
    X_scaled = StandardScaler().fit_transform(X.astype("float64"))
    pred = cross_val_predict(_sgd(o), X_scaled, y, cv=3)
    return {"cv_accuracy": accuracy_score(y, pred)}


def multilabel(d, o):
    X, y = d["X_train"], d["y_train"]
    y_multilabel = np.c_[y >= 7, y % 2 == 1]
    KNeighborsClassifier().fit(X, y_multilabel)
    pred = cross_val_predict(KNeighborsClassifier(), X, y_multilabel, cv=3)
    return {"f1_macro": f1_score(y_multilabel, pred, average="macro"),
            "f1_weighted": f1_score(y_multilabel, pred, average="weighted")}


def denoise(d, o):
    rng = np.random.RandomState(42)
    X_train, X_test = d["X_train"], d["X_test"]
    X_train_mod = X_train + rng.randint(0, 100, X_train.shape)
    X_test_mod = X_test + rng.randint(0, 100, X_test.shape)
    clean = KNeighborsClassifier().fit(X_train_mod, X_train).predict(X_test_mod)
    return {"rmse_noisy": float(np.sqrt(np.mean((X_test_mod - X_test.astype(float)) ** 2))),
            "rmse_denoised": float(np.sqrt(np.mean((clean - X_test.astype(float)) ** 2)))}


def best_accuracy(d, o):
    n = min(o.grid_train_size, len(d["y_train"]))
    grid = {"weights": ["uniform", "distance"], "n_neighbors": [3, 4, 5]}
    search = GridSearchCV(KNeighborsClassifier(), grid, cv=5).fit(d["X_train"][:n], d["y_train"][:n])
    best = search.best_estimator_.fit(d["X_train"], d["y_train"])
    return {"best_cv_score": search.best_score_,
            "test_accuracy": accuracy_score(d["y_test"], best.predict(d["X_test"])),
            "best_n_neighbors": search.best_params_["n_neighbors"], "best_weights": search.best_params_["weights"]}


def augmentation(d, o):
    def shift_image(image, dx, dy):
        return shift(image.reshape(28, 28), [dy, dx], cval=0, mode="constant").reshape(-1)

    X_aug, y_aug = [image for image in d["X_train"]], [label for label in d["y_train"]]
    for dx, dy in ((-1, 0), (1, 0), (0, 1), (0, -1)):
        for image, label in zip(d["X_train"], d["y_train"]):
            X_aug.append(shift_image(image, dx, dy))
            y_aug.append(label)
    knn = KNeighborsClassifier(n_neighbors=4, weights="distance").fit(np.array(X_aug), np.array(y_aug))
    return {"test_accuracy": accuracy_score(d["y_test"], knn.predict(d["X_test"])), "n_train_augmented": len(y_aug)}


STEPS = {
    "binary_sgd": binary_sgd,
    "binary_cv+metrics+tradeoff": binary_cv_metrics_tradeoff,
    "binary_roc": binary_roc,
    "multiclass:svc": _svc(SVC(random_state=42), 2000),
    "multiclass:ovr_svc": _svc(OneVsRestClassifier(SVC(random_state=42)), 1000),
    "multiclass:sgd_cv": sgd_cv,
    "multiclass:sgd_scaled_cv": sgd_scaled_cv,
    "multilabel": multilabel,
    "best_accuracy": best_accuracy,
    "denoise": denoise,
    "augmentation": augmentation,
}


def _plain(v):
    return v if isinstance(v, (bool, int, str)) else float(v)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", help=".npz with X_train, y_train, X_test, y_test")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup-rounds", type=int, default=1)
    p.add_argument("--n-estimators", type=int, default=100)
    p.add_argument("--grid-train-size", type=int, default=10_000)
    p.add_argument("--sgd-max-iter", type=int, default=1000,
                   help="SGD epoch cap (gpuclf bench passes the cap its cpu backend uses at this size)")
    p.add_argument("--steps", default=",".join(STEPS), help="comma-separated labels")
    o = p.parse_args(argv)
    with np.load(o.data) as npz:
        d = {k: npz[k] for k in ("X_train", "y_train", "X_test", "y_test")}
    d["y_train_5"] = d["y_train"] == 5
    steps = {}
    for label in o.steps.split(","):
        times, figures = [], {}
        for r in range(o.warmup_rounds + o.rounds):
            t0 = time.perf_counter()
            figures = STEPS[label](d, o)
            if r >= o.warmup_rounds:
                times.append(time.perf_counter() - t0)
        steps[label] = {"median": statistics.median(times), "times": times,
                        "figures": {k: _plain(v) for k, v in figures.items()}}
        print(f"{label}: {steps[label]['median']:.3f} s", flush=True)
    with open(o.out, "w") as f:
        json.dump({"rounds": o.rounds, "warmup_rounds": o.warmup_rounds, "n_train": len(d["y_train"]),
                   "n_test": len(d["y_test"]), "steps": steps}, f, indent=1)


if __name__ == "__main__":
    main()
