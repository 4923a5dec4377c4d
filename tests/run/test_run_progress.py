"""Progress inside long steps: live on a terminal (rich), one line per step elsewhere, nothing with --quiet."""
from __future__ import annotations

import io
import re

import pytest

import gpuclf
from gpuclf.chapter import Context
from gpuclf.chapter.binary import step_binary_roc
from gpuclf.chapter.exercises import step_best_accuracy
from gpuclf.run import runner
from gpuclf.run.progress import Progress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in an interactive shell."""

    def isatty(self):
        return True


def _text(stream) -> str:
    return ANSI.sub("", stream.getvalue())


@pytest.fixture
def stages(monkeypatch):
    """Two quick fake steps; the second reports stages and records what the terminal showed meanwhile."""
    seen = {}

    def first(ctx):
        return {"x": 1}

    def second(ctx):
        ctx.progress("forest fold 2/3")
        seen["during"] = _text(ctx.stream)
        ctx.progress("forest fold 3/3")
        return {"y": 2}

    fake = {"data": first, "binary_sgd": second}
    monkeypatch.setattr(runner, "STEPS", fake)
    monkeypatch.setattr(runner, "select_steps", lambda names: list(fake))
    return seen


def _run(tmp_path, stream, monkeypatch, **kwargs):
    monkeypatch.setattr("sys.stderr", stream)
    # The fake step reads what has been drawn so far from the context.
    monkeypatch.setattr(Context, "stream", stream, raising=False)
    data = gpuclf.load_mnist("sample").subsample(300, 100)
    gpuclf.run_workflow(gpuclf.get_backend("numpy"), data, gpuclf.RunConfig(), str(tmp_path), **kwargs)
    return _text(stream)


def test_terminal_shows_the_stage_and_never_a_running_step_as_done(tmp_path, monkeypatch, stages):
    out = _run(tmp_path, Terminal(), monkeypatch)
    during = stages["during"]
    # While the second step runs: its stage and elapsed time, and one of two steps done (not two).
    assert "binary_sgd: forest fold 2/3" in during
    assert re.search(r"1/2 steps done \d+:\d\d:\d\d", during)
    assert "2/2 steps done" not in during
    # Finished steps stay as lines with their seconds.
    assert re.search(r"step 1/2: data \d+\.\d\d s", out)
    assert re.search(r"step 2/2: binary_sgd \d+\.\d\d s", out)


def test_not_a_terminal_prints_step_lines_only(tmp_path, monkeypatch, stages):
    out = _run(tmp_path, io.StringIO(), monkeypatch)
    assert "forest fold" not in out and "\x1b[" not in stages["during"] + out
    assert re.fullmatch(r"step 1/2: data \.\.\. \d+\.\d\d s\nstep 2/2: binary_sgd \.\.\. \d+\.\d\d s\n", out)


def test_quiet_prints_nothing(tmp_path, monkeypatch, stages):
    assert _run(tmp_path, Terminal(), monkeypatch, progress=False) == ""


def test_a_failing_step_is_reported_failed_not_done():
    stream = Terminal()
    bar = Progress(3, stream=stream)
    bar.start("data")
    bar.finish(0.5)
    bar.start("binary_roc")
    bar.stage("random forest, 3-fold CV")
    bar.fail()
    text = _text(stream)
    assert "step 2/3: binary_roc failed" in text and "3/3" not in text
    assert not bar._bar.live.is_started  # the live display is taken down


def test_real_steps_report_their_stages(tmp_path):
    """The chapter's long steps call ctx.progress with what they are doing."""
    seen = []
    data = gpuclf.load_mnist("sample").subsample(600, 100)
    ctx = Context(gpuclf.get_backend("numpy"), data, gpuclf.RunConfig(n_estimators=5, grid_train_size=300),
                           on_progress=seen.append)
    step_binary_roc(ctx)
    step_best_accuracy(ctx)
    assert seen[0] == "SGD 5-detector, 3-fold CV"
    assert "random forest (5 trees), 3-fold CV" in seen
    assert "grid search, 6 settings x 5 folds on 300 rows" in seen
