"""Regression tests of the safety promises: no code from files, ids never escape, bounded inputs."""

from __future__ import annotations

import errno
import gzip
import os
import pickle
import stat
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from robustness_cases import _Marker, _png_header

from gazekit.errors import GazekitError, InputError
from gazekit.io.layout import id_filename, inside, recording_id_from_path, safe_child

DATA = Path(__file__).parent / "data"


# ------------------------------------------------------------------ checkpoints
def test_a_pickle_checkpoint_that_writes_a_file_is_refused_and_never_runs(tmp_path):
    from gazekit.models.train import load_checkpoint

    marker = tmp_path / "RAN"
    ck = tmp_path / "evil.pt"
    ck.write_bytes(pickle.dumps(_Marker(str(marker))))
    with pytest.raises(InputError, match="never unpickles code"):
        load_checkpoint(ck)
    assert not marker.exists()


def test_a_torch_file_that_is_not_a_gazekit_checkpoint_is_refused_in_one_line(tmp_path):
    import torch

    from gazekit.models.train import read_checkpoint

    p = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(3)}, p)
    with pytest.raises(InputError, match="not a gazekit checkpoint") as info:
        read_checkpoint(p)
    assert "\n" not in str(info.value)


def test_a_checkpoint_of_another_task_is_refused(tmp_path):
    import torch

    from gazekit.models.train import CHECKPOINT_FORMAT, read_checkpoint

    keys = ("config", "model_state", "optimizer_state", "step", "best_val", "split", "history", "rng")
    p = tmp_path / "ck.pt"
    torch.save({"format_version": CHECKPOINT_FORMAT, "task": "scanpath", **{k: {} for k in keys}}, p)
    with pytest.raises(InputError, match="'scanpath' model; a 'intent' checkpoint is needed"):
        read_checkpoint(p, task="intent")


# ------------------------------------------------------------------ ids and paths
@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), min_size=1, max_size=24))
def test_any_id_becomes_one_file_name_inside_the_directory(rid):
    name = id_filename(rid)
    assert "/" not in name and "\\" not in name and "\0" not in name
    assert name not in (".", "..") and name[0] not in "._"
    assert (Path("/d") / name).parent == Path("/d")
    assert recording_id_from_path(f"/d/{name}.parquet") == rid


@pytest.mark.parametrize("rid", ["../../x", "/etc/passwd", "..", ".", "a/../../b", "C:\\x", "a\0b"])
def test_path_like_ids_are_encoded_not_followed(rid, tmp_path):
    p = tmp_path / f"{id_filename(rid)}.parquet"
    assert p.parent == tmp_path
    assert recording_id_from_path(p) == rid


def test_an_empty_id_is_refused():
    with pytest.raises(InputError, match="empty recording_id"):
        id_filename("", "recording_id")


@pytest.mark.parametrize("part", ["..", "../x", "/abs", "a/b", "a\\b", "a\0b", ""])
def test_safe_child_refuses_names_that_leave_the_root(part, tmp_path):
    with pytest.raises(InputError, match=r"unsafe|outside"):
        safe_child(tmp_path, part, "transcript.json", what="DICOM_ID")


def test_safe_child_refuses_a_symlink_out_of_the_root(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "link").symlink_to(tmp_path)
    with pytest.raises(InputError, match="leads outside"):
        safe_child(tmp_path / "corpus", "link", "secret")


def test_a_manifest_path_outside_the_dataset_is_never_deleted(tmp_path):
    from gazekit.pipeline.runner import _delete

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    ds = tmp_path / "ds"
    (ds / "events").mkdir(parents=True)
    mine = ds / "events" / "a.parquet"
    mine.write_text("x")
    _delete(ds, ["../victim.txt", str(victim), "events/a.parquet"])
    assert victim.exists() and not mine.exists()
    with pytest.raises(InputError):
        inside(ds, "../victim.txt")


def test_egd_dicom_id_cannot_select_a_transcript_outside_the_corpus(tmp_path, data_file):
    from gazekit.io import read

    d = data_file("egd")
    text = (d / "eye_gaze.csv").read_text()
    first = text.splitlines()[1].split(",")[2]
    # listed in the master sheet too, so it is a reading (an unlisted id is a calibration image)
    for name in ("eye_gaze.csv", "fixations.csv", "master_sheet.csv"):
        (d / name).write_text((d / name).read_text().replace(first, "../../outside"))
    with pytest.raises(InputError, match="DICOM_ID"):
        read(d, "egd")


# ------------------------------------------------------------------ files and permissions
def test_outputs_honour_the_umask_not_0600(tmp_path):
    from gazekit.io.parquet import atomic_open

    old = os.umask(0o002)
    try:
        with atomic_open(tmp_path / "a.txt", "w") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o664


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    from gazekit.io import read

    p = tmp_path / "bomb.asc.gz"
    p.write_bytes(gzip.compress(b"** CONVERTED FROM x.edf\n" + b"9" * 120_000_000, 9))
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="decompression bomb"):
        read(p, "asc")
    assert p.stat().st_size < 1_000_000 and time.perf_counter() - t0 < 30


def test_a_png_declaring_30000_squared_pixels_is_refused_before_decoding(tmp_path):
    from gazekit.io.images import read_image

    p = tmp_path / "bomb.png"
    p.write_bytes(_png_header(30000, 30000))
    with pytest.raises(InputError, match="declares"):
        read_image(p)


def test_a_device_is_refused_as_an_input():
    from gazekit.io._csv import read_bytes

    with pytest.raises(InputError, match="not a regular file"):
        read_bytes("/dev/zero")


def test_chexmask_rows_are_streamed_one_atlas_at_a_time(tmp_path):
    from gazekit.anatomy import iter_chexmask

    head = "Image,Dice RCA (Mean),Dice RCA (Max),Landmarks,Left Lung,Right Lung,Heart,Height,Width\n"
    good = "a,0.9,0.9,,1 10,20 10,,64,64\n"
    bad = "b,0.9,0.9,,1 10,20 10,,99999999,99999999\n"
    p = tmp_path / "chex.csv"
    p.write_text(head + good * 40 + bad)
    it = iter_chexmask(p, template=False)
    first = next(it)  # available before the bad row far below is read
    assert first[0] == "a" and first[1].shape == (64, 64)
    with pytest.raises(InputError, match="line 42"):
        list(it)


# ------------------------------------------------------------------ impossible values
@pytest.mark.parametrize(
    "field, value",
    [("viewing_distance_mm", 0.0), ("viewing_distance_mm", float("inf")),
     ("screen_w_mm", -5.0), ("screen_h_mm", float("nan")), ("screen_w_px", 1.0)],
)  # fmt: skip
def test_impossible_geometry_is_refused(field, value):
    from gazekit.geometry import Geometry

    with pytest.raises(GazekitError, match=field):
        Geometry(**{field: value})


@pytest.mark.parametrize(
    "name, value",
    [("sg_window_ms", 1e9), ("velocity_threshold", -5.0), ("velocity_threshold", float("nan")),
     ("min_fixation_ms", -1.0), ("max_gap_ms", float("inf")), ("dispersion", 0.0)],
)  # fmt: skip
def test_impossible_detector_parameters_are_refused(name, value):
    from gazekit.events import detector_parameters

    method = "idt" if name == "dispersion" else "ivt"
    with pytest.raises(GazekitError, match=name):
        detector_parameters(method, **{name: value})


def test_gaze_at_1e308_is_refused_naming_the_recording(tmp_path, data_file):
    from gazekit.io.convert import convert

    asc = data_file("asc/monocular.asc")
    lines = asc.read_text().splitlines()
    asc.write_text("\n".join(ln.replace("640.0", "1e308", 1) if ln[:1].isdigit() else ln for ln in lines))
    with pytest.raises(InputError, match="impossible gaze") as info:
        convert([asc], tmp_path / "out")
    assert "none of the 1 input(s)" in str(info.value)


# ------------------------------------------------------------------ batch and crash safety
def test_a_reader_bug_fails_only_its_input_and_the_batch_goes_on(tmp_path, data_file, monkeypatch):
    from gazekit.io import convert as conv

    real = conv._read_one

    def flaky(path, fmt, options):  # type: ignore[no-untyped-def]
        if "binocular" in path:
            raise ZeroDivisionError("float division by zero")
        return real(path, fmt, options)

    monkeypatch.setattr(conv, "_read_one", flaky)
    res = conv.convert([data_file("asc")], tmp_path / "out")
    assert len(res.recordings) == 1 and len(res.failures) == 1
    assert "ZeroDivisionError" in res.failures[0][1]


def test_a_switch_cut_between_its_renames_is_finished_by_the_next_run(tmp_path, data_file):
    from gazekit.io.convert import PREVIOUS, STAGING, convert, recover

    out = tmp_path / "ds"
    both = data_file("asc")
    convert([both], tmp_path / "new")
    convert([both / "monocular.asc"], out)
    os.replace(out, tmp_path / PREVIOUS.format("ds"))  # killed after the first rename
    os.replace(tmp_path / "new", tmp_path / STAGING.format("ds"))
    recover(out)
    from gazekit.io.parquet import read_frame

    assert len(read_frame(out / "recordings.parquet", "recordings")) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith("lock")) == ["asc", "ds"]


def test_convert_never_replaces_a_directory_that_is_not_a_dataset(tmp_path, data_file):
    from gazekit.io.convert import convert

    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="not a gazekit dataset"):
        convert([data_file("asc")], home, overwrite=True)
    assert (home / "thesis.tex").read_text() == "precious"


# ------------------------------------------------------------------ the CLI error rule
@pytest.mark.parametrize(
    "exc, text",
    [(OSError(errno.ENOSPC, "No space left on device", "/data/x.parquet"),
      "/data/x.parquet: no space left on the device"),
     (PermissionError(errno.EACCES, "Permission denied", "/ro/out"), "/ro/out: permission denied"),
     (EOFError(), "empty or truncated"),
     (KeyError("x"), "internal error (KeyError")],
)  # fmt: skip
def test_every_exception_becomes_one_error_line(exc, text):
    from gazekit.cli.main import error_message

    msg = error_message(exc)
    assert text in msg and "\n" not in msg


def test_an_empty_npz_is_a_clean_error_not_aborted(tmp_path):
    from click.testing import CliRunner

    from gazekit.cli.main import cli

    p = tmp_path / "a.npz"
    p.write_bytes(b"")
    res = CliRunner().invoke(cli, ["anatomy", str(p)])
    assert res.exit_code != 0 and res.output.startswith("Error: ") and "Aborted" not in res.output
    assert np.isfinite(res.exit_code)
