"""``results.json``: its name, and the structure that resuming, the report and ``compare`` rely on."""
from __future__ import annotations

import json
import os

from gpuclf.errors import GpuclfError, file_errors, option

RESULTS = "results.json"
#: Per-step records next to "steps", and the JSON type of each step's entry.
PARTS = {"steps": dict, "seconds": (int, float), "memory": dict, "placement": dict, "warnings": list}
#: What the report and compare read besides: key -> the JSON types it may have (absent is fine),
#: and the type of each item of the lists and objects among them.
OPTIONAL = {"data_source": str, "data_reader": (str, type(None)), "class_names": (list, type(None)),
            "environment": dict, "cluster": (dict, type(None)), "warmup": (dict, type(None))}
ITEMS = {"class_names": str, "memory": (int, float, type(None)), "placement": dict, "warnings": str}
#: Inside "environment": what the report and compare show.
ENVIRONMENT = {"device": str, "versions": dict}


def read_record(out_dir: str) -> dict:
    """The run recorded in ``out_dir/results.json``, its structure checked.

    Raises
    ------
    GpuclfError
        When the file is missing, unreadable, not JSON, or not shaped like
        gpuclf's results (:func:`check_record`).
    """
    path = os.path.join(out_dir, RESULTS)
    if not os.path.lexists(path):
        raise GpuclfError(f"{option('--resume')}: {out_dir} holds no finished step to continue ({path} does not "
                          f"exist); run without {option('--resume')}")
    with file_errors(path, f"delete it, or run with {option('--force')} to start afresh", reads=path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    return check_record(doc, path)


def _json_type(value) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def check_record(doc, path: str) -> dict:
    """Check that ``doc`` is shaped like the ``results.json`` gpuclf writes; return it.

    Only the structure that resuming, the report and compare rely on is
    checked: the identity keys, the per-step records (``steps``: figures by
    step, ``seconds``: numbers, ``memory``: objects of numbers or null,
    ``placement``: objects of objects, ``warnings``: lists of strings), and
    the keys of :data:`OPTIONAL` (``environment``'s ``device`` and ``versions``,
    the class names).

    Raises
    ------
    GpuclfError
        Naming the first key out of shape, e.g. ``'steps' is null, expected an object``.
    """
    def refuse(what):
        raise GpuclfError(f"{path} is not a gpuclf results file: {what}; delete it, or run with "
                          f"{option('--force')} to start afresh")

    if not isinstance(doc, dict):
        refuse(f"it holds {_json_type(doc)}, expected an object")
    if doc.get("gpuclf_results") != 1:
        refuse("'gpuclf_results' is not 1")
    expected = {"backend": str, "n_train": int, "n_test": int, "config": dict, **{part: dict for part in PARTS}}
    for key, kind in expected.items():
        if isinstance(doc.get(key), bool) or not isinstance(doc.get(key), kind):
            refuse(f"{key!r} is {'missing' if key not in doc else _json_type(doc[key])}, "
                   f"expected {_json_type(kind())}")
    def check(where: str, value, kind) -> None:
        if isinstance(value, bool) or not isinstance(value, kind):
            kinds = dict.fromkeys(_json_type(k()) for k in (kind if isinstance(kind, tuple) else (kind,)))
            refuse(f"{where} is {_json_type(value)}, expected {' or '.join(kinds)}")

    for part, kind in PARTS.items():
        for step, value in doc[part].items():
            check(f"{part}[{step!r}]", value, kind)
    for key, kind in OPTIONAL.items():
        if key in doc:
            check(repr(key), doc[key], kind)
    for key, value in doc.get("environment", {}).items():
        if key in ENVIRONMENT:
            check(f"environment[{key!r}]", value, ENVIRONMENT[key])
    for name, version in doc.get("environment", {}).get("versions", {}).items():
        check(f"environment['versions'][{name!r}]", version, (str, type(None)))
    for i, name in enumerate(doc.get("class_names") or ()):
        check(f"class_names[{i}]", name, ITEMS["class_names"])
    for part in ("memory", "placement", "warnings"):
        for step, entry in doc[part].items():
            for key, value in (entry.items() if isinstance(entry, dict) else enumerate(entry)):
                check(f"{part}[{step!r}][{key!r}]", value, ITEMS[part])
    return doc
