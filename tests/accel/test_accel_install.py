"""install() / uninstall(): every import form, before and after scikit-learn's import, exclusions, bad input."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import gpuclf.accel as accel
from gpuclf.accel import estimators as swapped
from gpuclf.accel.core import CUML_SWAPS, SWAPS
from gpuclf.errors import GpuclfError


def _run(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter (nothing of scikit-learn imported yet unless the code does it)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("GPUCLF_ACCEL_EXCLUDE", "GPUCLF_BACKEND")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=full_env, timeout=300)


@pytest.fixture
def installed():
    names = accel.install(backend="numpy", quiet=True)
    yield names
    accel.uninstall()


def test_every_import_form_after_install(installed):
    import sklearn
    import sklearn.linear_model as lm
    from sklearn.linear_model import SGDClassifier
    from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier

    assert SGDClassifier is lm.SGDClassifier is sklearn.linear_model.SGDClassifier is swapped.SGDClassifier
    assert sklearn.neighbors.KNeighborsClassifier is swapped.KNeighborsClassifier
    assert sklearn.preprocessing.StandardScaler is swapped.StandardScaler
    assert sklearn.dummy.DummyClassifier is swapped.DummyClassifier
    assert (OneVsOneClassifier, OneVsRestClassifier) == (swapped.OneVsOneClassifier, swapped.OneVsRestClassifier)
    assert installed == [name for _, name in SWAPS]
    # Everything else stays scikit-learn's own.
    assert sklearn.svm.SVC.__module__.startswith("sklearn.") and sklearn.ensemble.RandomForestClassifier.__module__ \
        .startswith("sklearn.")


def test_uninstall_restores_sklearns_classes():
    import sklearn.linear_model
    import sklearn.multiclass

    before = {(m, n): getattr(sys.modules[m], n) for m, n in SWAPS if m in sys.modules}
    accel.install(backend="numpy", quiet=True)
    assert sklearn.linear_model.SGDClassifier is swapped.SGDClassifier
    accel.uninstall()
    assert not accel.installed()
    for (module, name), cls in before.items():
        assert getattr(sys.modules[module], name) is cls
    assert sklearn.linear_model.SGDClassifier.__module__ == "sklearn.linear_model._stochastic_gradient"
    assert sklearn.multiclass.OneVsRestClassifier.__module__ == "sklearn.multiclass"


@pytest.mark.parametrize("order", ["install-first", "sklearn-first", "bound-before"])
def test_install_before_or_after_sklearns_import(order):
    """A fresh interpreter: install() before any scikit-learn import, after one, or after names were bound."""
    head = {
        "install-first": "import gpuclf.accel; gpuclf.accel.install(backend='numpy')\n"
                         "from sklearn.linear_model import SGDClassifier\nimport sklearn.neighbors as nb",
        "sklearn-first": "import sklearn.linear_model, sklearn.neighbors as nb\nimport gpuclf.accel\n"
                         "gpuclf.accel.install(backend='numpy')\nfrom sklearn.linear_model import SGDClassifier",
        "bound-before": "from sklearn.linear_model import SGDClassifier\nimport sklearn.neighbors as nb\n"
                        "import gpuclf.accel; gpuclf.accel.install(backend='numpy')",
    }[order]
    out = _run(head + """
import numpy as np
X = np.random.default_rng(0).random((200, 5)); y = X[:, 0] > 0.5
print(type(SGDClassifier(random_state=0).fit(X, y)).__module__, nb.KNeighborsClassifier.__module__)
print(gpuclf.accel.summary()[0]["where"])
""")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["gpuclf.accel.linear", "gpuclf.accel.neighbors", "gpuclf", "(numpy)"]
    notice = [line for line in out.stderr.splitlines() if line.startswith("gpuclf.accel:")]
    assert len(notice) == 1 and "numpy backend" in notice[0] and "SGDClassifier" in notice[0]


def test_exclude_keeps_sklearns_class():
    import sklearn.linear_model

    names = accel.install(backend="numpy", exclude=("SGDClassifier",), quiet=True)
    try:
        assert "SGDClassifier" not in names and "KNeighborsClassifier" in names
        assert sklearn.linear_model.SGDClassifier.__module__ == "sklearn.linear_model._stochastic_gradient"
    finally:
        accel.uninstall()


def test_exclude_from_the_environment():
    out = _run("""
import gpuclf.accel, sklearn.linear_model, sklearn.neighbors
gpuclf.accel.install(backend='numpy', quiet=True)
print(sklearn.linear_model.SGDClassifier.__module__, sklearn.neighbors.KNeighborsClassifier.__module__)
""", env={"GPUCLF_ACCEL_EXCLUDE": "SGDClassifier, KNeighborsClassifier"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["sklearn.linear_model._stochastic_gradient", "sklearn.neighbors._classification"]


@pytest.mark.parametrize("kwargs, message", [
    ({"backend": "cuda"}, "unknown backend 'cuda' for gpuclf.accel; choose one of auto, gpu, numpy"),
    ({"backend": "cpu"}, "is scikit-learn itself"),
    ({"backend": "numpy", "exclude": ("SGD",)}, "cannot exclude SGD"),
])
def test_bad_input_changes_nothing(kwargs, message):
    import sklearn.linear_model

    before = sklearn.linear_model.SGDClassifier
    with pytest.raises(GpuclfError, match=message):
        accel.install(**kwargs)
    assert sklearn.linear_model.SGDClassifier is before and not accel.installed()


def test_gpu_without_a_gpu_is_one_clear_error():
    from gpuclf.backends.gpu import GpuBackend

    if GpuBackend.availability()[0]:
        pytest.skip("a GPU is usable here")
    with pytest.raises(GpuclfError, match=r"install\(backend=...\)='gpu' is not usable here: .*; choose numpy"):
        accel.install(backend="gpu")
    assert not accel.installed()


def test_auto_is_numpy_without_a_gpu_never_sklearn():
    from gpuclf.accel.core import choose_backend
    from gpuclf.backends.gpu import GpuBackend

    backend, why = choose_backend("auto")
    assert backend.name == ("gpu" if GpuBackend.availability()[0] else "numpy")


def test_ipython_extension_swaps_the_sessions_names():
    """%load_ext gpuclf.accel rebinds names the session bound to scikit-learn's classes before it."""
    ip = pytest.importorskip("IPython")
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_cell("from sklearn.linear_model import SGDClassifier")
    old = os.environ.get("GPUCLF_BACKEND")
    os.environ["GPUCLF_BACKEND"] = "numpy"
    try:
        shell.run_cell("%load_ext gpuclf.accel")
        assert shell.user_ns["SGDClassifier"] is swapped.SGDClassifier
        shell.run_cell("%unload_ext gpuclf.accel")
        assert shell.user_ns["SGDClassifier"].__module__ == "sklearn.linear_model._stochastic_gradient"
    finally:
        accel.uninstall()
        if old is None:
            os.environ.pop("GPUCLF_BACKEND")
        else:
            os.environ["GPUCLF_BACKEND"] = old
    assert ip is not None


def test_cuml_swaps_only_with_cuml():
    assert {name for _, name in CUML_SWAPS} == {"RandomForestClassifier", "SVC"}
    names = accel.install(backend="numpy", quiet=True)
    try:
        assert "SVC" not in names and "RandomForestClassifier" not in names
    finally:
        accel.uninstall()
