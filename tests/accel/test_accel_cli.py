"""``python -m gpuclf.accel``: a script and a notebook run with accel; bad input is one ``gpuclf:`` line, exit 2."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""\
    import sys
    import numpy as np
    from sklearn.linear_model import SGDClassifier
    X = np.random.default_rng(0).random((300, 4)); y = X[:, 0] > 0.5
    print(type(SGDClassifier(random_state=0).fit(X, y)).__module__, sys.argv[1:])
    def fail():
        raise ValueError("the script's own error")
    if "--fail" in sys.argv:
        fail()
    sys.exit(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 0)
""")


def accel(*args, cwd=None, env=None):
    full = {k: v for k, v in os.environ.items() if k not in ("GPUCLF_BACKEND", "GPUCLF_ACCEL_EXCLUDE")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "gpuclf.accel", *args], capture_output=True, text=True, cwd=cwd,
                          env=full, timeout=300)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "chapter.py"
    path.write_text(SCRIPT)
    return path


def test_runs_a_script_with_its_arguments(script):
    out = accel("--backend", "numpy", "--summary", str(script), "a", "--flag")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "gpuclf.accel.linear ['a', '--flag']"
    assert re.search(r"^SGDClassifier\s+fit\s+gpuclf \(numpy\)\s+1\s", out.stderr, re.M), out.stderr


def test_the_scripts_exit_status_and_traceback_are_pythons(script):
    assert accel(str(script), "3").returncode == 3
    out = accel(str(script), "--fail")
    plain = subprocess.run([sys.executable, str(script), "--fail"], capture_output=True, text=True)
    assert out.returncode == plain.returncode == 1
    # The same traceback as python script.py, frames of gpuclf's runner left out.
    assert out.stderr.split("Traceback", 1)[1] == plain.stderr.split("Traceback", 1)[1]


@pytest.mark.parametrize("args, message", [
    (["--backend", "cuda", "{script}"], "gpuclf: unknown backend 'cuda' for gpuclf.accel; choose one of auto, gpu, numpy"),
    (["--backend", "cpu", "{script}"], "gpuclf: install(backend=...)='cpu' is scikit-learn itself"),
    (["{dir}/missing.py"], "gpuclf: no such file: {dir}/missing.py"),
    (["{dir}"], "gpuclf: {dir} is not a file"),
    (["{dir}/notes.txt"], "gpuclf: {dir}/notes.txt is neither a .py script nor a .ipynb notebook"),
    (["--exclude", "SGD", "{script}"], "gpuclf: cannot exclude SGD"),
    (["--out", "x.ipynb", "{script}"], "gpuclf: --out names the executed copy of a notebook"),
    ([], "gpuclf: the following arguments are required: file"),
    (["--backnd", "numpy", "{script}"], "gpuclf: unrecognized arguments"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, script, tmp_path):
    (tmp_path / "notes.txt").write_text("not code")
    fill = {"script": str(script), "dir": str(tmp_path)}
    out = accel(*[a.format(**fill) for a in args])
    assert out.returncode == 2
    assert out.stdout == "" and len(out.stderr.splitlines()) == 1, out.stderr
    assert out.stderr.startswith(message.format(**fill))


def test_gpu_without_a_gpu(script):
    from gpuclf.backends.gpu import GpuBackend

    if GpuBackend.availability()[0]:
        pytest.skip("a GPU is usable here")
    out = accel("--backend", "gpu", str(script))
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
    assert out.stderr.startswith("gpuclf: install(backend=...)='gpu' is not usable here")


def _notebook(path, *sources):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_executes_a_notebook(tmp_path):
    pytest.importorskip("nbclient")
    nb = _notebook(tmp_path / "ch3.ipynb",
                   "import numpy as np\nfrom sklearn.neighbors import KNeighborsClassifier\n"
                   "X = np.random.default_rng(0).random((100, 3)); y = X[:, 0] > 0.5",
                   "type(KNeighborsClassifier().fit(X, y)).__module__",
                   "import gpuclf.accel; gpuclf.accel.summary()[0]['where']")
    out = accel("--backend", "numpy", str(nb))
    assert out.returncode == 0, out.stderr
    done = json.loads((tmp_path / "ch3.accel.ipynb").read_text())
    results = ["".join(c["outputs"][-1]["data"]["text/plain"]) for c in done["cells"][2:]]
    assert results == ["'gpuclf.accel.neighbors'", "'gpuclf (numpy)'"]
    assert done["cells"][0]["metadata"]["tags"] == ["gpuclf-accel"]


def test_a_failing_cell_keeps_the_copy_and_exits_1(tmp_path):
    pytest.importorskip("nbclient")
    nb = _notebook(tmp_path / "bad.ipynb", "x = 1", "1 / 0", "print('not reached')")
    out = accel("--backend", "numpy", "--out", str(tmp_path / "done.ipynb"), str(nb))
    assert out.returncode == 1
    assert "ZeroDivisionError" in out.stderr and "gpuclf:" not in out.stderr
    done = json.loads((tmp_path / "done.ipynb").read_text())
    assert done["cells"][2]["outputs"][0]["ename"] == "ZeroDivisionError"
