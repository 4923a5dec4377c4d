"""Run the command line in-process and check the one-line error contract."""
from __future__ import annotations

from gpuclf.cli import main


def run_main(capsys, *args):
    """``gpuclf ARGS`` in this process: exit code and stderr."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def assert_one_line_error(code, err, *expected):
    """Exit code 2, no traceback, exactly one ``gpuclf: error:`` line holding every ``expected`` text."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gpuclf: error: "), err
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]
