"""The swapped classes: scikit-learn's estimators running on gpuclf's when their parameters and input allow.

Each class subclasses scikit-learn's own (see :mod:`gpuclf.accel.proxy`) and
says which of its parameter values gpuclf's estimator covers
(``_gpuclf_params``), how scikit-learn checks the input, and how gpuclf's
results become scikit-learn's (class labels with scikit-learn's dtype,
NumPy arrays). Labels are encoded on the host as scikit-learn encodes them,
so string labels work on the GPU too: gpuclf's estimator sees class codes.
One module per scikit-learn module they replace.
"""
from .cuml import SVC, RandomForestClassifier
from .dummy import DummyClassifier
from .linear import SGDClassifier
from .multiclass import OneVsOneClassifier, OneVsRestClassifier
from .neighbors import KNeighborsClassifier
from .preprocessing import StandardScaler

__all__ = ["DummyClassifier", "KNeighborsClassifier", "OneVsOneClassifier", "OneVsRestClassifier",
           "RandomForestClassifier", "SGDClassifier", "SVC", "StandardScaler"]
