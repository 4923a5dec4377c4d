"""``python -m gpuclf.accel [--backend B] [--exclude NAMES] [--out PATH] script.py|notebook.ipynb [args...]``."""
from __future__ import annotations

import argparse
import sys

from ..errors import GpuclfError

USAGE = ("python -m gpuclf.accel [--backend auto|gpu|numpy] [--exclude NAME,...] [--summary] [--out PATH] "
         "script.py|notebook.ipynb [args...]")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2: gpuclf's rule for every user mistake
        print(f"gpuclf: {message}; usage: {USAGE}", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m gpuclf.accel", usage=USAGE, allow_abbrev=False,
                description="Run a script, or execute a notebook, with scikit-learn's chapter-3 estimators on "
                            "gpuclf's kernels (docs/accel.md).")
    p.add_argument("--backend", default=None, help="auto (default, or $GPUCLF_BACKEND): gpu if usable, else numpy")
    p.add_argument("--exclude", default="", help="comma-separated classes to keep as scikit-learn's "
                                                 "(adds to $GPUCLF_ACCEL_EXCLUDE)")
    p.add_argument("--summary", action="store_true", help="print gpuclf.accel.summary() when the script ends")
    p.add_argument("--out", default=None, help="where the executed notebook goes (default: NAME.accel.ipynb beside it)")
    p.add_argument("--timeout", type=int, default=None, help="seconds a notebook cell may take (default: no limit)")
    p.add_argument("file", help="a .py script or a .ipynb notebook")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    return p


def main(argv: list[str] | None = None) -> int:
    ns = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    exclude = tuple(n for n in ns.exclude.split(",") if n.strip())
    from . import runner
    from .core import install, _excluded, choose_backend

    try:
        target = runner.check_target(ns.file, ns.out)
        if target.suffix == ".ipynb":
            if ns.args:
                raise GpuclfError("a notebook takes no arguments")
            _excluded(exclude)
            choose_backend(ns.backend)  # refused here in one line, not in the kernel
            return runner.run_notebook(target, ns.out, ns.backend, exclude, ns.timeout)
        install(ns.backend, exclude)
    except GpuclfError as exc:
        print(f"gpuclf: {exc}", file=sys.stderr)
        return 2
    try:
        return runner.run_script(target, ns.args)
    finally:
        if ns.summary:
            from .calls import summary

            print(summary(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
