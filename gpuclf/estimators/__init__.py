"""scikit-learn-compatible estimators on gpuclf's kernels (NumPy or CuPy arrays)."""
from gpuclf.estimators.dummy import DummyClassifier
from gpuclf.estimators.linear import SGDClassifier
from gpuclf.estimators.multiclass import OneVsOneClassifier, OneVsRestClassifier
from gpuclf.estimators.neighbors import KNeighborsClassifier
from gpuclf.estimators.preprocessing import StandardScaler

__all__ = ["DummyClassifier", "KNeighborsClassifier", "OneVsOneClassifier", "OneVsRestClassifier", "SGDClassifier",
           "StandardScaler"]
