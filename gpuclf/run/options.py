"""Every command-line option's type and range, checked in one place before any work, and the parser.

Each option of ``gpuclf run | bench | demo`` is declared with a checker
(:class:`Int`, :class:`Floats`, :class:`Names`, :class:`Size`, :class:`Text`).
argparse calls the checker on the text typed, so a bad value stops the
command before data is loaded or a folder is created, with one line naming
the option and the allowed range (``argument --seed: must be an integer from
0 to 4294967295, got -1``). The environment variables that stand in for
options are checked where they are read, and their errors name the variable
(``$GPUCLF_BACKEND=gpu is not available``, ``$GPUCLF_MNIST file ... does not exist``).

The options that change a figure map to :class:`~gpuclf.chapter.RunConfig`
fields (:data:`CONFIG_OPTIONS`); their parser default is ``None`` so that
``--resume`` can tell an option the user gave from one left out, and take the
latter from the run recorded in ``--out`` (:func:`resumed_config`).
"""
from __future__ import annotations

import argparse
import csv
import math
import re
import sys

from gpuclf.errors import GpuclfError

#: scikit-learn's bound on ``random_state`` (NumPy's legacy seed is 32-bit).
MAX_SEED = 2**32 - 1


class UsageError(GpuclfError):
    """A bad option or argument, found by the parser before any work."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one ``gpuclf: error:`` line like every other mistake, with a "did you mean".

    A mistyped choice (``gpuclf rn``) gets argparse's own suggestion,
    ``suggest_on_error`` (Python 3.14+; the same words from :meth:`_check_value`
    before); an unknown option (``--backed``) gets the closest option of its
    command, which argparse suggests in no version.
    """

    # argparse takes any word starting with "-" for an option unless it looks like one negative
    # number, so ``--thresholds -5,0`` failed; a comma list of numbers is a value too. (The
    # pattern is argparse's own hook, an attribute of every parser and subparser.)
    NEGATIVE_NUMBERS = re.compile(r"^-\d*\.?\d+(e[-+]?\d+)?(\s*,\s*-?\d*\.?\d+(e[-+]?\d+)?)*$", re.IGNORECASE)

    def __init__(self, *args, **kwargs):
        if sys.version_info >= (3, 14):
            kwargs.setdefault("suggest_on_error", True)
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = self.NEGATIVE_NUMBERS
        self.commands = {}  # name -> subparser, filled by build_parser

    def error(self, message):
        raise UsageError(message)

    if sys.version_info < (3, 14):
        def _check_value(self, action, value):
            """Python 3.14's ``suggest_on_error`` for the versions without it, in its words."""
            try:
                super()._check_value(action, value)
            except argparse.ArgumentError as exc:
                close = _closest(value, action.choices) if isinstance(value, str) else None
                if close is None:
                    raise
                said = f"invalid choice: {value!r}"
                raise argparse.ArgumentError(action, exc.message.replace(
                    said, f"{said}, maybe you meant {close!r}?", 1)) from None

    def parse_args(self, args=None, namespace=None):
        """argparse's, but an unknown option is named with the closest option of its command."""
        parsed, extras = self.parse_known_args(sys.argv[1:] if args is None else args, namespace)
        if extras:
            command = self.commands.get(getattr(parsed, "command", None), self)
            known = [s for a in command._actions for s in a.option_strings if s.startswith("--")]
            hints = [(e, c) for e in extras if e.startswith("-") for c in [_closest(e.partition("=")[0], known)] if c]
            meant = hints[0][1] if len(hints) == 1 else ", ".join(f"{c} for {e}" for e, c in hints)
            self.error(f"unrecognized arguments: {' '.join(extras)}" + (f"; maybe you meant {meant}?" if hints else ""))
        return parsed


def _closest(word: str, choices) -> str | None:
    """The choice ``word`` was most likely meant to be, as Python 3.14's argparse finds it (difflib)."""
    import difflib

    choices = list(choices or ())
    if not all(isinstance(c, str) for c in choices):
        return None
    found = difflib.get_close_matches(word, choices, 1)
    return found[0] if found else None


class Int:
    """An integer in ``[lo, hi]``, or one of ``also`` (e.g. ``-1`` for "all cores").

    Parameters
    ----------
    lo, hi : int, optional
        Inclusive bounds; None means unbounded.
    also : dict of int to str, optional
        Values allowed outside the range, with what they mean.
    """

    def __init__(self, lo: int | None = None, hi: int | None = None, also: dict | None = None):
        self.lo, self.hi, self.also = lo, hi, also or {}

    def describe(self) -> str:
        if self.lo is not None and self.hi is not None:
            text = f"an integer from {self.lo} to {self.hi}"
        elif self.lo is not None:
            text = f"an integer >= {self.lo}"
        else:
            text = "an integer"
        return text + "".join(f", or {v} ({meaning})" for v, meaning in self.also.items())

    def __call__(self, text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text!r}") from None
        in_range = (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)
        if not in_range and value not in self.also:
            raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {value}")
        return value


class Floats:
    """A non-empty comma-separated list of finite numbers (``0,3000,8000``)."""

    def __call__(self, text: str) -> tuple[float, ...]:
        parts = [v.strip() for v in text.split(",") if v.strip()]
        if not parts:
            raise argparse.ArgumentTypeError("must list at least one number, e.g. 0,3000,8000")
        try:
            values = tuple(float(v) for v in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
        bad = [p for p, v in zip(parts, values) if not math.isfinite(v)]
        if bad:
            raise argparse.ArgumentTypeError(f"must be finite numbers, got {', '.join(bad)}")
        return values


def canonical(name: str, allowed) -> str | None:
    """``name`` as spelt in ``allowed``, in any case (``CPU`` is ``cpu``); None when it is not there."""
    spelt = {a.lower(): a for a in allowed}
    return spelt.get(name.strip().lower())


class Names:
    """A non-empty comma-separated list of names from ``choices()``, in any case (looked up when parsing)."""

    def __init__(self, choices, what: str):
        self.choices, self.what = choices, what

    def __call__(self, text: str) -> list[str]:
        names = [v.strip() for v in text.split(",") if v.strip()]
        allowed = list(self.choices())
        if not names:
            raise argparse.ArgumentTypeError(f"must name at least one {self.what}; choose from {', '.join(allowed)}")
        unknown = [n for n in names if canonical(n, allowed) is None]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {self.what}(s) {', '.join(unknown)}; "
                                             f"choose from {', '.join(allowed)}")
        return list(dict.fromkeys(canonical(n, allowed) for n in names))


class Choice:
    """One name from ``choices()``, in any case (looked up when parsing)."""

    def __init__(self, choices, what: str):
        self.choices, self.what = choices, what

    def __call__(self, text: str) -> str:
        allowed = list(self.choices())
        name = canonical(text, allowed)
        if name is None:
            raise argparse.ArgumentTypeError(f"unknown {self.what} {text!r}; choose one of {', '.join(allowed)}")
        return name


class Size:
    """A positive number of bytes: ``4GB``, ``512MiB``, ``1e9``."""

    UNITS = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}

    def __call__(self, text: str) -> int:
        t = text.strip().lower().removesuffix("b").removesuffix("i")
        scale = self.UNITS.get(t[-1:], 1)
        try:
            value = float(t[:-1] if scale > 1 else t) * scale
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 4GB or 512MiB") from None
        if not (math.isfinite(value) and value >= 1):
            raise argparse.ArgumentTypeError(f"must be a positive finite size such as 4GB, got {text!r}")
        return int(value)


class Text:
    """A non-empty string (a path or a name)."""

    def __call__(self, text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError("must not be empty")
        return text


class Label:
    """A class: a label (``5``), a class name (``Sandal``), ``label:N`` or ``name:TEXT``.

    Kept as typed: what it denotes depends on the data's labels and names, so
    it is resolved against them (:meth:`gpuclf.data.MnistData.label_of`),
    which refuses text that fits two classes.
    """

    def __call__(self, text: str) -> str:
        t = text.strip()
        kind, colon, rest = t.partition(":")
        if not t or (colon and kind in ("label", "name") and not rest.strip()):
            raise argparse.ArgumentTypeError("must be a class label (e.g. 5) or a class name, or label:N or name:TEXT")
        if re.fullmatch(r"-[0-9]+", t):
            raise argparse.ArgumentTypeError(f"must be a label >= 0 or a class name, got {t}")
        if colon and kind == "label" and not re.fullmatch(r"[0-9]+", rest.strip()):
            raise argparse.ArgumentTypeError(f"label: must be followed by a label 0, 1, …, got {t!r}")
        return t


class NameList:
    """Comma-separated class names, one per label 0, 1, ... (``T-shirt/top,Trouser,...``).

    Read as one CSV line, so a name holding a comma is given in double
    quotes: ``"Shirt, long",Trouser``.
    """

    def __call__(self, text: str) -> tuple[str, ...]:
        names = [v.strip() for v in next(csv.reader([text], skipinitialspace=True), [])]
        if len(names) < 2 or any(not n for n in names):
            raise argparse.ArgumentTypeError("must list one non-empty name per class, at least two, "
                                             "e.g. T-shirt/top,Trouser,...")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise argparse.ArgumentTypeError(f"names must differ; {', '.join(repeated)} appears twice")
        return tuple(names)


class Minutes:
    """A positive finite number of minutes (``20``, ``7.5``)."""

    def __call__(self, text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number of minutes such as 20, got {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be a positive number of minutes, got {text!r}")
        return value


class Cluster:
    """``local`` or a Dask scheduler address ``tcp://host:port`` (see :mod:`gpuclf.run.cluster`)."""

    def __call__(self, text: str) -> str:
        from gpuclf.run.cluster import check_spec

        try:
            return check_spec(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None


def cluster_option(given: str | None):
    """``--cluster``, else ``$GPUCLF_CLUSTER`` (checked here, its error naming the variable), else None.

    Returns
    -------
    gpuclf.run.cluster.Spec or None
        The address, remembering which of the two gave it, so that a cluster
        that fails later is named as the user gave it.
    """
    import os

    from gpuclf.run.cluster import ENV_VAR, Spec, check_spec

    if given is not None:
        return Spec(given)
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    try:
        return Spec(check_spec(value), f"${ENV_VAR}")
    except ValueError as exc:
        raise GpuclfError(f"${ENV_VAR}: {exc}") from None


def _step_names():
    from gpuclf.chapter import STEPS

    return STEPS


def _backend_names():
    from gpuclf.backends import backend_names

    return backend_names()


SEED = Int(0, MAX_SEED)
ROWS = Int(1)
JOBS = Int(1, also={-1: "all cores"})
DEVICE = Int(0)
THRESHOLDS = Floats()
STEP_LIST = Names(_step_names, "step")
def _knn_searches():
    from ..kernels.knn_cost import ALGORITHMS

    return ALGORITHMS


BACKEND = Choice(lambda: ["auto", *_backend_names()], "backend")
BACKEND_LIST = Names(_backend_names, "backend")
#: ``--knn-search``: how gpuclf's own KNN finds the neighbours (the same ones whichever; only the work differs).
KNN_SEARCH = Choice(_knn_searches, "KNN search")
KNN_SEARCH_LIST = Names(_knn_searches, "KNN search")
POSITIVE_CLASS = Label()
CLUSTER = Cluster()
CLASS_NAMES = NameList()


#: ``gpuclf run`` options that change a figure: parser dest -> (RunConfig field, checker of a recorded
#: value). A run records the positive class as the label it denoted.
CONFIG_OPTIONS = {"steps": ("steps", STEP_LIST), "train_size": ("train_size", ROWS),
                  "test_size": ("test_size", ROWS), "seed": ("random_state", SEED),
                  "thresholds": ("thresholds", THRESHOLDS), "n_estimators": ("n_estimators", ROWS),
                  "sgd_max_iter": ("sklearn_sgd_max_iter", ROWS),
                  "positive_class": ("positive_class", Int(0))}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def config_kwargs(args, recorded: dict | None = None, data=None) -> dict:
    """RunConfig keyword arguments from parsed ``run`` options, over a recorded run's config.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options; ``None`` means not given.
    recorded : dict, optional
        ``config`` of the run in ``--out`` being resumed: options left out take
        its values (checked as if typed); options given must agree with it,
        except ``--steps``, which may add steps.
    data : MnistData, optional
        The data the run reads: ``--positive-class`` becomes the label it
        denotes there (:meth:`~gpuclf.data.MnistData.label_of`), so that
        ``Sandal`` agrees with a recorded ``5``.

    Raises
    ------
    GpuclfError
        An option that contradicts the recorded run, naming both values, or a
        recorded value no option would accept.
    """
    kwargs = {}
    for dest, (name, check) in CONFIG_OPTIONS.items():
        typed = given = getattr(args, dest, None)
        if dest == "positive_class" and given is not None and data is not None:
            given = data.label_of(given)
        if recorded is not None and recorded.get(name) is not None:
            kept = _recorded(recorded[name], check, dest, args.out)
            if given is None:
                given = kept
            elif dest != "steps" and _comparable(given) != _comparable(kept):
                raise contradiction(_flag(dest), typed, kept, args.out)
        if given is not None:
            kwargs[name] = tuple(given) if dest == "thresholds" else given
    return kwargs


def contradiction(flag: str, given, kept, out: str) -> GpuclfError:
    """The error for an option given with ``--resume`` that the recorded run had otherwise."""
    recorded = f"{flag} {_shown(kept)}" if kept is not None else f"without {flag}"
    return GpuclfError(f"{flag} {_shown(given)} contradicts the run recorded in {out} ({recorded}); "
                       "leave it out to continue that run, or use another --out")


def _recorded(value, check, dest: str, out: str):
    """A value from a recorded config, through the option's own checker."""
    if isinstance(value, list) and not value:
        return []
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    try:
        if isinstance(value, bool):
            raise argparse.ArgumentTypeError(f"got {value}")
        return check(text)
    except argparse.ArgumentTypeError as exc:
        raise GpuclfError(f"--resume: the run recorded in {out} has an invalid {_flag(dest)} ({exc}); "
                          "delete its results.json, or run with --force to start afresh") from None


def _comparable(value):
    return [float(v) for v in value] if isinstance(value, (list, tuple)) else value


def _shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return str(value)
