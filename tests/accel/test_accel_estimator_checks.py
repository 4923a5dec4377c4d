"""scikit-learn's check_estimator on the swapped classes: they must pass what scikit-learn's own classes pass.

The checks are scikit-learn's own for each class (they recognise the names), run on instances that gpuclf
accelerates (default parameters, bases that are swapped classes) and on one that falls back. The expected
failures are exactly those scikit-learn's own test suite expects of the class it swaps
(``sklearn.utils._test_common.instance_generator``), with scikit-learn's reasons.
"""
from __future__ import annotations

from sklearn.utils._test_common.instance_generator import _get_expected_failed_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from gpuclf.accel.estimators import (DummyClassifier, KNeighborsClassifier, OneVsOneClassifier, OneVsRestClassifier,
                                     SGDClassifier, StandardScaler)

INSTANCES = [
    SGDClassifier(), SGDClassifier(loss="log_loss"),  # the second falls back to scikit-learn
    KNeighborsClassifier(weights="distance"), StandardScaler(with_std=False), DummyClassifier(),
    OneVsRestClassifier(SGDClassifier(random_state=0)), OneVsRestClassifier(KNeighborsClassifier()),
    OneVsOneClassifier(SGDClassifier(random_state=0)),
]


def sklearns_own_expected_failures(estimator):
    """What scikit-learn expects its own class (the one swapped) to fail, with its reasons."""
    original = type(estimator)._sklearn_class
    return _get_expected_failed_checks(original(**estimator.get_params(deep=False)))


@parametrize_with_checks(INSTANCES, expected_failed_checks=sklearns_own_expected_failures)
def test_sklearn_checks_on_swapped_classes(estimator, check):
    check(estimator)
