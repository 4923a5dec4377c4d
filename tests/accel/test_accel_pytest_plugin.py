"""The plugin that runs scikit-learn's tests under accel: accel installed before collection, strict xfails
with their reasons, and a stale entry refused."""
from __future__ import annotations

import textwrap

pytest_plugins = ["pytester"]

MODULE = textwrap.dedent("""
    import sklearn.linear_model

    def test_swapped():
        assert sklearn.linear_model.SGDClassifier.__module__ == "gpuclf.accel.linear"

    def test_known_failure():
        assert False

    def test_fixed_long_ago():
        pass
""")


def _run(pytester, xfail: str):
    """An inner pytest run in this process (a subprocess would import scikit-learn again: seconds each)."""
    import gpuclf.accel

    pytester.makepyfile(test_under_accel=MODULE)
    (pytester.path / "xfail.yaml").write_text(textwrap.dedent(xfail))
    try:
        return pytester.runpytest_inprocess("-p", "gpuclf.accel.pytest_plugin", "--gpuclf-accel", "numpy",
                                            "--gpuclf-accel-xfail", "xfail.yaml", "-p", "no:cacheprovider", "-rxX")
    finally:
        gpuclf.accel.uninstall()


def test_installs_before_collection_and_marks_listed_tests(pytester):
    result = _run(pytester, """
        - reason: "why it fails under accel"
          tests:
            - test_under_accel::test_known_failure
            - test_under_accel::test_fixed_long_ago
    """)
    result.assert_outcomes(passed=1, xfailed=1, failed=1)  # the passing listed test fails: strict
    result.stdout.fnmatch_lines(["*XPASS(strict)*why it fails under accel*",
                                 "*XFAIL*test_known_failure*why it fails under accel*"])


def test_stale_entries_and_missing_reasons_are_refused(pytester):
    stale = _run(pytester, """
        - reason: "gone"
          tests:
            - test_under_accel::test_renamed_since
    """)
    assert stale.ret != 0 and "match no collected test" in stale.stderr.str() + stale.stdout.str()
    no_reason = _run(pytester, """
        - tests:
            - test_under_accel::test_known_failure
    """)
    assert no_reason.ret != 0 and "every group needs a reason" in no_reason.stderr.str() + no_reason.stdout.str()
