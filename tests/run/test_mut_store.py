"""The results store as a user meets it: every message whole, the files where and how they are written.

Written against the survivors of ``python tools/mutation.py --module results`` (docs/testing.md):
each test pins a behaviour a user relies on, the exact sentence they read, or where a file lands.
"""
from __future__ import annotations

import json
import locale
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from gpuclf.run import record, store
from gpuclf.errors import GpuclfError, command_line
from gpuclf.chapter import select_steps
from gpuclf.run.files import atomic_write, check_writable
from gpuclf.run.folder import lock_output
from gpuclf.run.record import check_record, read_record
from gpuclf.run.store import ResultsStore, load_arrays

HEADER = {"gpuclf_results": 1, "backend": "numpy", "data_fingerprint": "blake2b:aa", "n_train": 10, "n_test": 5,
          "config": {"random_state": 42, "steps": ["data"]}}


def message(call, *args, **kwargs) -> str:
    """The message a user of ``gpuclf run`` reads (Python callers read it in their own terms)."""
    with pytest.raises(GpuclfError) as info, command_line("gpuclf run"):
        call(*args, **kwargs)
    return str(info.value)


def test_difference_names_the_option_and_both_values():
    assert store._difference("config", {"random_state": 42, "cv": 3}, {"random_state": 7, "cv": 3}) == \
        "a different random_state (42 there, 7 here)"
    assert store._difference("config", {"cv": 3}, {"cv": 3, "seed": 1}) == "a different seed (None there, 1 here)"
    assert store._difference("data_fingerprint", "a", "b") == \
        "other data (its content differs from this data's, whatever the file names)"
    assert store._difference("backend", "cpu", "numpy") == "a different backend ('cpu' there, 'numpy' here)"


def test_resume_with_another_seed_is_refused_in_one_sentence(tmp_path):
    ResultsStore(str(tmp_path), HEADER).write()
    other = {**HEADER, "config": {"random_state": 7, "steps": ["data"]}}
    assert message(ResultsStore, str(tmp_path), other, resume=True) == (
        f"--resume: {tmp_path} holds a run with a different random_state (42 there, 7 here); "
        "use another --out, or --force to replace that run")


@pytest.mark.parametrize("recorded, asked, expected", [
    (["data"], ["binary_cv"], ["data", "binary_cv"]),
    (["data"], None, None),
    (None, ["binary_cv"], None),
    (None, ["knn_plus"], [*select_steps(None), "knn_plus"]),  # the default steps, and an optional one added
    (["knn_plus"], ["data"], ["data", "knn_plus"]),
])
def test_resumed_step_list_is_the_union_or_all(tmp_path, recorded, asked, expected):
    ResultsStore(str(tmp_path), {**HEADER, "config": {"random_state": 42, "steps": recorded}}).write()
    store = ResultsStore(str(tmp_path), {**HEADER, "config": {"random_state": 42, "steps": asked}}, resume=True)
    assert store.doc["config"]["steps"] == expected


def test_check_writable_probes_inside_the_folder_and_cleans_up(tmp_path, monkeypatch):
    made = []
    real = tempfile.mkstemp

    def spy(*args, **kwargs):
        made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    check_writable(str(tmp_path / "out"))
    assert made == [{"dir": str(tmp_path / "out"), "prefix": ".probe-"}]
    assert os.listdir(tmp_path / "out") == []


def test_check_writable_message(tmp_path):
    (tmp_path / "file").write_text("x")
    where = str(tmp_path / "file" / "out")
    assert message(check_writable, where) == (f"--out {where!r}: {str(tmp_path / 'file')!r} is a file, not a folder; "
                                              "choose a folder (gpuclf creates it if it does not exist)")
    assert message(check_writable, str(tmp_path / "file")) == (
        f"--out {str(tmp_path / 'file')!r} is a file, not a folder; choose a folder (gpuclf creates it if it "
        "does not exist)")
    (tmp_path / "ro").mkdir(mode=0o500)
    if os.geteuid() != 0:  # root writes anywhere
        assert message(check_writable, str(tmp_path / "ro" / "out")) == (
            f"cannot write to --out {str(tmp_path / 'ro' / 'out')!r} (Permission denied); choose a folder you can "
            "write to")


def test_atomic_write_temporary_is_a_dot_file_beside_its_target(tmp_path, monkeypatch):
    """The temporary sits in the same folder (a rename, not a copy) and is named .tmp-*<name> (cleaned next run)."""
    seen = []

    def fail_replace(src, dst):
        seen.append((src, dst))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(GpuclfError, match="no space left on device"):
        atomic_write(str(tmp_path / "results.json"), lambda f: f.write(b"{}"))
    (src, dst), = seen
    assert os.path.dirname(src) == str(tmp_path) and dst == str(tmp_path / "results.json")
    name = os.path.basename(src)
    assert name.startswith(".tmp-") and name.endswith("results.json")
    assert os.listdir(tmp_path) == []  # the temporary is gone too


def test_atomic_write_relative_path_and_permissions(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    atomic_write("plain.json", lambda f: f.write(b"[]"))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "plain.json").read_bytes() == b"[]"
    assert os.stat(tmp_path / "plain.json").st_mode & 0o777 == 0o666 & ~umask


def test_temporaries_left_by_a_killed_run_are_removed(tmp_path):
    ResultsStore(str(tmp_path), HEADER).write()
    (tmp_path / "arrays").mkdir()
    for leftover in (tmp_path / ".tmp-abcresults.json", tmp_path / "arrays" / ".tmp-xyzdata.npz"):
        leftover.write_text("half")
    ResultsStore(str(tmp_path), HEADER, resume=True)
    assert sorted(os.listdir(tmp_path)) == ["arrays", "results.json"] and os.listdir(tmp_path / "arrays") == []


def test_a_temporary_that_cannot_be_removed_is_named(tmp_path, monkeypatch):
    (tmp_path / ".tmp-1results.json").write_text("half")
    monkeypatch.setattr(os, "remove", lambda p: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    text = message(ResultsStore, str(tmp_path), HEADER)
    assert str(tmp_path / ".tmp-1results.json") in text and text.endswith("; remove it yourself")


def test_force_that_cannot_remove_names_the_file(tmp_path, monkeypatch):
    (tmp_path / "report.html").write_text("old")
    monkeypatch.setattr(os, "remove", lambda p: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    text = message(ResultsStore, str(tmp_path), HEADER, force=True)
    assert text.startswith(f"--force: {tmp_path / 'report.html'}") and text.endswith("; remove it yourself")


def test_an_earlier_run_is_refused_naming_the_command_that_continues_it(tmp_path):
    doc = {**HEADER, **{part: {"data": value} for part, value in
                        {"steps": {}, "seconds": 1.0, "memory": {}, "placement": {}, "warnings": []}.items()}}
    (tmp_path / "results.json").write_text(json.dumps(doc))
    (tmp_path / "report.html").write_text("")
    assert message(ResultsStore, str(tmp_path), HEADER) == (
        f"--out {tmp_path} already holds a run (1 finished step(s): data); continue it with: gpuclf run --resume "
        f"--out {tmp_path}, replace it with --force, or choose another --out")
    assert ResultsStore(str(tmp_path / "fresh"), HEADER).doc["backend"] == "numpy"  # force defaults to False:
    (tmp_path / "fresh").mkdir(exist_ok=True)
    (tmp_path / "fresh" / "results.json").write_text(json.dumps(doc))
    with pytest.raises(GpuclfError, match="already holds a run"):
        ResultsStore(str(tmp_path / "fresh"), HEADER)
    (tmp_path / "fresh" / "results.json").write_text("{}")  # not a run gpuclf can continue: says why
    assert message(ResultsStore, str(tmp_path / "fresh"), HEADER) == (
        f"{tmp_path / 'fresh' / 'results.json'} is not a gpuclf results file: 'gpuclf_results' is not 1; delete it, "
        "or run with --force to start afresh")


@pytest.mark.parametrize("name, make, found, wanted", [
    ("results.json", os.mkdir, "a folder", "a file"),
    ("arrays", lambda p: open(p, "w").close(), "not a folder", "a folder"),
])
def test_outputs_of_the_wrong_kind(tmp_path, name, make, found, wanted):
    make(str(tmp_path / name))
    assert message(ResultsStore, str(tmp_path), HEADER, force=False) == (
        f"--out {tmp_path}: {name!r} is {found}, but gpuclf writes {wanted} of that name there; move it away, "
        "use --force to replace it, or choose another --out")


def test_read_record_messages(tmp_path):
    (tmp_path / "results.json").write_text("{not json")
    text = message(read_record, str(tmp_path))
    assert str(tmp_path / "results.json") in text and text.endswith("delete it, or run with --force to start afresh")
    (tmp_path / "results.json").write_text(json.dumps({**HEADER, "gpuclf_results": 2}), encoding="utf-8")
    assert message(read_record, str(tmp_path)) == (
        f"{tmp_path / 'results.json'} is not a gpuclf results file: 'gpuclf_results' is not 1; delete it, or run "
        "with --force to start afresh")


def test_check_record_names_the_part_and_its_json_type():
    doc = {**HEADER, "steps": {}, "seconds": {}, "memory": {}, "placement": {}, "warnings": {"data": "oops"}}
    assert message(check_record, doc, "r.json") == (
        "r.json is not a gpuclf results file: warnings['data'] is a string, expected a list; delete it, or run "
        "with --force to start afresh")


def test_save_step_writes_arrays_of_several_steps_and_rounds_seconds(tmp_path):
    store = ResultsStore(str(tmp_path), HEADER)
    store.save_step("data", {"n": 1}, 1.234567, {}, {}, {"a": np.arange(3)})
    store.save_step("binary_cv", {"n": 2}, 2.0, {}, {}, {"b": np.ones(2)})  # arrays/ exists by now
    assert store.doc["seconds"] == {"data": 1.2346, "binary_cv": 2.0}
    np.testing.assert_array_equal(load_arrays(str(tmp_path), "binary_cv")["b"], np.ones(2))
    text = (tmp_path / "results.json").read_text()
    assert text.startswith('{\n  "gpuclf_results": 1,\n  "backend": "numpy"')  # indented for a reader


def test_a_step_that_cannot_be_saved_says_what_was_kept(tmp_path, monkeypatch):
    store = ResultsStore(str(tmp_path), HEADER)
    store.save_step("data", {"n": 1}, 1.0, {}, {}, {})
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    text = message(store.save_step, "binary_cv", {"n": 2}, 1.0, {}, {}, {})
    assert text.endswith("step binary_cv was not saved, the steps finished before it (data) are kept: fix that, "
                         f"then continue with gpuclf run --resume --out {tmp_path}")
    assert "binary_cv" not in store.doc["seconds"]
    fresh = ResultsStore(str(tmp_path / "empty"), HEADER)
    text = message(fresh.save_step, "data", {}, 1.0, {}, {}, {})
    assert text.endswith("step data was not saved, no step had finished: fix that, then run again")


def test_arrays_that_cannot_be_written_leave_the_record_clean(tmp_path, monkeypatch):
    """The arrays fail before the step's entries exist: still one sentence, nothing half-recorded."""
    store = ResultsStore(str(tmp_path), HEADER)
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    text = message(store.save_step, "data", {"n": 1}, 1.0, {}, {}, {"a": np.arange(3)})
    assert text.startswith(f"{tmp_path / 'arrays' / 'data.npz'} could not be written: no space left on device")
    assert all("data" not in store.doc[part] for part in record.PARTS)


def test_an_arrays_folder_that_cannot_be_made_is_named(tmp_path, monkeypatch):
    store = ResultsStore(str(tmp_path), HEADER)
    monkeypatch.setattr(os, "makedirs", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    text = message(store.save_step, "data", {}, 1.0, {}, {}, {"a": np.arange(3)})
    assert text.startswith(str(tmp_path / "arrays"))


def test_plot_arrays_in_the_way_name_the_file_and_spare_the_figures(tmp_path):
    (tmp_path / "arrays" / "data.npz").mkdir(parents=True)
    assert message(load_arrays, str(tmp_path), "data") == (
        f"plot arrays {tmp_path / 'arrays' / 'data.npz'} is a folder, not a file; step data's figures in "
        "results.json are not affected")


def test_damaged_plot_arrays_name_the_file_and_spare_the_figures(tmp_path):
    (tmp_path / "arrays").mkdir()
    (tmp_path / "arrays" / "data.npz").write_bytes(b"PK\x03\x04 truncated")
    text = message(load_arrays, str(tmp_path), "data")
    assert text == (f"plot arrays {tmp_path / 'arrays' / 'data.npz'} is not a readable .npz file (no zip archive: "
                    "truncated, corrupt or another format); step data's figures in results.json are not affected")


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    """Another process holds the lock: this one is told so, instead of writing beside it."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)"),
        str(tmp_path / ".gpuclf.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(GpuclfError, match="another"):
            with lock_output(str(tmp_path)):
                pass
    finally:
        holder.kill()
        holder.wait()
    with lock_output(str(tmp_path)):  # released with its process
        pass


@pytest.mark.parametrize("theirs, mine, expected", [
    (["T-shirt", "Trouser", "Pullover", "Dress", "Coat"], ["tee", "trousers", "Pullover", "frock", "coat"],
     "label 0: 'T-shirt' there, 'tee' here; label 1: 'Trouser' there, 'trousers' here; label 3: 'Dress' there, "
     "'frock' here"),  # four differ: the first three are named
    (None, ["cat", "dog"], "no names: the digits there; cat, dog here"),
    (["cat", "dog"], ["cat", "dog", "bird"], "cat, dog there; cat, dog, bird here"),
])
def test_resume_with_other_class_names_says_which(tmp_path, theirs, mine, expected):
    ResultsStore(str(tmp_path), {**HEADER, "class_names": theirs}).write()
    assert message(ResultsStore, str(tmp_path), {**HEADER, "class_names": mine}, resume=True) == (
        f"--resume: {tmp_path} holds a run with other class names ({expected}); use another --out, or --force to "
        "replace that run")


def test_a_run_killed_before_its_first_save_is_cleared_by_the_next(tmp_path):
    """Only arrays/ with step arrays (and a temporary): no run yet, so a new run starts there."""
    (tmp_path / "arrays").mkdir()
    for name in ("data.npz", ".tmp-k3j2binary_sgd.npz"):
        (tmp_path / "arrays" / name).write_bytes(b"PK")
    ResultsStore(str(tmp_path), HEADER).write()
    assert sorted(os.listdir(tmp_path)) == ["results.json"]


def test_arrays_without_a_run_that_gpuclf_did_not_write_are_kept(tmp_path):
    (tmp_path / "arrays").mkdir()
    for name in ("data.npz", "notes.npz"):
        (tmp_path / "arrays" / name).write_bytes(b"PK")
    assert message(ResultsStore, str(tmp_path), HEADER) == (
        f"--out {tmp_path} holds arrays but no results.json: no run to continue; move them away, use --force to "
        "replace them, or choose another --out")
    assert sorted(os.listdir(tmp_path / "arrays")) == ["data.npz", "notes.npz"]


def test_an_arrays_folder_that_cannot_be_listed_is_named(tmp_path, monkeypatch):
    (tmp_path / "arrays").mkdir()
    monkeypatch.setattr(os, "listdir", lambda p: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    assert message(ResultsStore, str(tmp_path), HEADER) == (
        f"{tmp_path / 'arrays'} is not accessible (permission denied); move it away, or choose another --out")
    with pytest.raises(GpuclfError) as info:  # from Python: the argument's name, not the flag
        ResultsStore(str(tmp_path), HEADER)
    assert str(info.value).endswith("move it away, or choose another out_dir")


@pytest.mark.parametrize("content", [b"", b"\xff\xfe7\n"])
def test_a_locked_folder_without_a_process_id_is_refused_without_one(tmp_path, content):
    """The lock's holder has not written its id yet (or wrote bytes that are no id): no '(process ...)'."""
    fcntl = pytest.importorskip("fcntl")
    (tmp_path / ".gpuclf.lock").write_bytes(content)
    fd = os.open(tmp_path / ".gpuclf.lock", os.O_RDWR)  # another open file: flock refuses this process too
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        def enter():
            with lock_output(str(tmp_path)):
                pass

        assert message(enter) == (
            f"another gpuclf run is writing to --out {tmp_path}; wait for it to finish, or choose another --out")
    finally:
        os.close(fd)


def test_a_results_file_that_is_a_device_is_refused_unread(tmp_path):
    os.symlink(os.devnull, tmp_path / "results.json")
    assert message(ResultsStore, str(tmp_path), HEADER, resume=True) == (
        f"{tmp_path / 'results.json'} is a character device, not a file; delete it, or run with --force to start "
        "afresh")


def test_results_json_is_read_as_utf8_whatever_the_locale(tmp_path):
    """JSON is UTF-8: a record re-saved with raw UTF-8 (jq, an editor) reads the same under an ASCII locale."""
    names = ["Café", "Crème"]
    doc = {**HEADER, "class_names": names, **{part: {} for part in record.PARTS}}
    (tmp_path / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        assert read_record(str(tmp_path))["class_names"] == names
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


@pytest.mark.parametrize("damage, expected", [
    ({"class_names": 3}, "'class_names' is a number, expected a list or null"),
    ({"memory": {"data": {"peak": "big"}}}, "memory['data']['peak'] is a string, expected a number or null"),
    ({"environment": {"device": 3}}, "environment['device'] is a number, expected a string"),
    ({"environment": {"versions": {"numpy": 2}}},
     "environment['versions']['numpy'] is a number, expected a string or null"),
    ({"class_names": ["cat", 3]}, "class_names[1] is a number, expected a string"),
])
def test_check_record_names_what_each_damaged_key_may_be(damage, expected):
    doc = {**HEADER, **{part: {} for part in record.PARTS}, **damage}
    assert message(check_record, doc, "r.json") == (
        f"r.json is not a gpuclf results file: {expected}; delete it, or run with --force to start afresh")


def test_plot_arrays_that_are_a_device_are_refused_unread(tmp_path):
    (tmp_path / "arrays").mkdir()
    os.symlink(os.devnull, tmp_path / "arrays" / "data.npz")
    assert message(load_arrays, str(tmp_path), "data") == (
        f"plot arrays {tmp_path / 'arrays' / 'data.npz'} is a character device, not a file; step data's figures in "
        "results.json are not affected")


def test_check_output_refuses_a_run_unless_asked_and_says_what_it_leaves(tmp_path):
    """``check_output``'s defaults are neither resume nor force: a folder holding a run is refused. With force
    nothing is kept, so it reports no unsaved run to clear (False). The finished steps are listed, comma-separated,
    or "none"; outputs without a run are named, comma-separated."""
    from gpuclf.run.folder import check_output

    doc = {**HEADER, **{part: {"data": value, "binary_sgd": value} for part, value in
                        {"steps": {}, "seconds": 1.0, "memory": {}, "placement": {}, "warnings": []}.items()}}
    (tmp_path / "results.json").write_text(json.dumps(doc))
    assert message(check_output, str(tmp_path)) == (
        f"--out {tmp_path} already holds a run (2 finished step(s): data, binary_sgd); continue it with: gpuclf run "
        f"--resume --out {tmp_path}, replace it with --force, or choose another --out")
    assert check_output(str(tmp_path), force=True) is False
    empty = {**HEADER, **{part: {} for part in ("steps", "seconds", "memory", "placement", "warnings")}}
    (tmp_path / "results.json").write_text(json.dumps(empty))
    assert "(0 finished step(s): none);" in message(check_output, str(tmp_path))
    other = tmp_path / "other"
    other.mkdir()
    (other / "report.html").write_text("")
    (other / "arrays").mkdir()
    assert message(check_output, str(other)).startswith(f"--out {other} holds arrays, report.html but no results.json")
