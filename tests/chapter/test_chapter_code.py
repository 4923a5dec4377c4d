"""The chapter's own SGD code, with ``from gpuclf.estimators import SGDClassifier`` swapped in.

Readers run the book's notebook unchanged but for the import; every line
below is the chapter's (Géron, ch. 3), on the offline sample's first rows,
at the sizes where a fixed 512-row, 5-epoch schedule predicted no 5 at all
and the 90%-precision line failed. Each figure is compared with
scikit-learn's own ``SGDClassifier`` run through the same lines.
"""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.metrics import (confusion_matrix, f1_score, precision_recall_curve, precision_score, recall_score,
                             roc_auc_score, roc_curve)
from sklearn.model_selection import cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from gpuclf.estimators import SGDClassifier


def chapter_binary(SGDClassifier, X_train, y_train):
    """The chapter's 5-detector cells, verbatim but for collecting the figures."""
    y_train_5 = (y_train == 5)
    sgd_clf = SGDClassifier(random_state=42)
    sgd_clf.fit(X_train, y_train_5)
    some_digit = X_train[0]
    some_digit_is_5 = sgd_clf.predict([some_digit])[0]
    cv_accuracy = cross_val_score(sgd_clf, X_train, y_train_5, cv=3, scoring="accuracy")
    y_train_pred = cross_val_predict(sgd_clf, X_train, y_train_5, cv=3)
    cm = confusion_matrix(y_train_5, y_train_pred)
    precision, recall = precision_score(y_train_5, y_train_pred), recall_score(y_train_5, y_train_pred)
    f1 = f1_score(y_train_5, y_train_pred)
    y_scores = sgd_clf.decision_function([some_digit])
    threshold = 0
    y_some_digit_pred = (y_scores > threshold)
    y_scores = cross_val_predict(sgd_clf, X_train, y_train_5, cv=3, method="decision_function")
    precisions, recalls, thresholds = precision_recall_curve(y_train_5, y_scores)
    idx_for_90_precision = (precisions >= 0.90).argmax()
    threshold_for_90_precision = thresholds[idx_for_90_precision]
    y_train_pred_90 = (y_scores >= threshold_for_90_precision)
    precision_90 = precision_score(y_train_5, y_train_pred_90)
    recall_at_90_precision = recall_score(y_train_5, y_train_pred_90)
    fpr, tpr, roc_thresholds = roc_curve(y_train_5, y_scores)
    auc = roc_auc_score(y_train_5, y_scores)
    return {"some_digit_is_5": some_digit_is_5, "cv_accuracy": cv_accuracy, "cm": cm, "precision": precision,
            "recall": recall, "f1": f1, "y_some_digit_pred": y_some_digit_pred,
            "threshold_for_90_precision": threshold_for_90_precision, "precision_90": precision_90,
            "recall_at_90_precision": recall_at_90_precision, "roc": (fpr, tpr, roc_thresholds), "auc": auc}


def chapter_multiclass(SGDClassifier, X_train, y_train):
    """The chapter's multiclass SGD cells: one-vs-rest on raw and on scaled pixels."""
    some_digit = X_train[0]
    sgd_clf = SGDClassifier(random_state=42)
    sgd_clf.fit(X_train, y_train)
    some_digit_class = sgd_clf.predict([some_digit])[0]
    some_digit_scores = sgd_clf.decision_function([some_digit])
    raw_accuracy = cross_val_score(sgd_clf, X_train, y_train, cv=3, scoring="accuracy")
    scaler = StandardScaler()
    X_train_scaled = scaler.fit_transform(X_train.astype("float64"))
    scaled_accuracy = cross_val_score(sgd_clf, X_train_scaled, y_train, cv=3, scoring="accuracy")
    y_train_pred = cross_val_predict(make_pipeline(StandardScaler(), clone(sgd_clf)), X_train, y_train, cv=3)
    return {"some_digit_class": some_digit_class, "some_digit_scores": some_digit_scores,
            "raw_accuracy": raw_accuracy, "scaled_accuracy": scaled_accuracy,
            "pipeline_accuracy": np.mean(y_train_pred == y_train)}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("n", [1_500, 3_000])
def test_chapter_5_detector_code_runs_with_our_sgd_and_matches_sklearn(sample_mnist, n):
    X_train, y_train = sample_mnist.X_train[:n], sample_mnist.y_train[:n]
    ours = chapter_binary(SGDClassifier, X_train, y_train)
    theirs = chapter_binary(SkSGDClassifier, X_train, y_train)
    # Both classes predicted and 90% precision reached, as with scikit-learn.
    assert ours["cm"][:, 1].sum() > 0 and ours["cm"][:, 0].sum() > 0
    assert ours["precision_90"] >= 0.90 and ours["recall_at_90_precision"] > 0
    assert np.mean(ours["cv_accuracy"]) >= np.mean(theirs["cv_accuracy"]) - 0.01
    assert ours["auc"] >= theirs["auc"] - 0.01
    assert ours["f1"] >= theirs["f1"] - 0.05
    assert ours["y_some_digit_pred"].dtype == bool and ours["y_some_digit_pred"].shape == (1,)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_chapter_multiclass_code_runs_with_our_sgd_and_matches_sklearn(sample_mnist):
    # 1,000 rows: scikit-learn's raw-pixel one-vs-rest CV takes a minute from 1,500 rows up.
    X_train, y_train = sample_mnist.X_train[:1_000], sample_mnist.y_train[:1_000]
    ours = chapter_multiclass(SGDClassifier, X_train, y_train)
    theirs = chapter_multiclass(SkSGDClassifier, X_train, y_train)
    assert np.mean(ours["raw_accuracy"]) >= np.mean(theirs["raw_accuracy"]) - 0.01
    assert np.mean(ours["scaled_accuracy"]) >= np.mean(theirs["scaled_accuracy"]) - 0.01
    assert ours["pipeline_accuracy"] >= theirs["pipeline_accuracy"] - 0.01
    assert ours["some_digit_scores"].shape == theirs["some_digit_scores"].shape == (1, 10)
    assert ours["some_digit_class"] in range(10)
