"""The bad-input matrix: hostile and mistaken inputs to every command, and how to judge them.

Shared by ``tests/test_robustness.py`` (in-process, CI) and
``benchmarks/robustness_matrix.py`` (the same cases plus fuzzed files, each command in a
subprocess with a time limit, printing counts).

Every case is ``Case(id, argv, expect, check)``: ``argv`` is a list of strings in which
``{name}`` is replaced by a fixture path; ``expect`` is ``"error"`` (a clean one-line
error with exit status != 0 is the only acceptable outcome) or ``"safe"`` (success or a
clean error are both acceptable, but ``check`` must hold afterwards: no file outside the
output, no marker written by a pickle, ...).
"""

from __future__ import annotations

import gzip
import json
import pickle
import shutil
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"

#: Outcome classes, in the order they are reported.
OUTCOMES = ("clean_error", "ok", "traceback", "silent_wrong", "hang")


@dataclass(frozen=True)
class Case:
    """One bad input to one command."""

    id: str
    argv: tuple[str, ...]
    expect: str = "error"
    check: Callable[[dict[str, Path]], str | None] | None = None
    pipeline: bool = False  # a case of the pipeline command (its engine is tracked apart)
    known: str | None = None  # a known failure still to fix: what happens now
    hangs: bool = False  # the known failure is a hang (not run in CI)
    slow: bool = False  # passes, but takes tens of seconds: benchmark only


def _png_header(w: int, h: int) -> bytes:
    """A tiny PNG that declares a ``w``×``h`` 8-bit grey image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    row = b"\0" + b"\0" * w
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(64)) + comp.flush()  # a few rows only
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


class _Marker:
    """Unpickling this runs ``open(path, "w")``: the pickle attack on a checkpoint."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.path, "w"))


def build_hostile_files(root: Path, dataset: Path | None = None) -> dict[str, Path]:
    """Write every hostile/mistaken file the matrix uses under ``root``; return the names.

    Parameters
    ----------
    root : Path
        Scratch directory.
    dataset : Path, optional
        A valid converted dataset (with events/intent labels) to derive damaged copies of.

    Returns
    -------
    dict of str to Path
    """
    root.mkdir(parents=True, exist_ok=True)
    f: dict[str, Path] = {"root": root}
    rng = np.random.default_rng(14)

    def put(name: str, data: bytes | str) -> Path:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
        f[name.replace("/", "_").replace(".", "_")] = p
        return p

    garbage = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    for suffix in ("bin", "asc", "csv", "tsv", "parquet", "npz", "pt", "png", "json"):
        put(f"garbage.{suffix}", garbage)
        put(f"empty.{suffix}", b"")
    asc = (DATA / "asc" / "monocular.asc").read_text()
    f["asc"] = put("good/R01.asc", asc)
    put("truncated.asc", asc[: len(asc) // 2 - 7])
    put("rate0.asc", asc.replace("RATE\t1000.00", "RATE\t0.00"))
    put("ratenan.asc", asc.replace("RATE\t1000.00", "RATE\tnan"))
    put("travel.asc", asc.replace("TRIAL_VAR reader_id R01", "TRIAL_VAR recording_id ../../escaped"))
    put("absolute.asc", asc.replace("TRIAL_VAR reader_id R01", f"TRIAL_VAR recording_id {root}/absolute_escaped"))
    put("nulid.asc", asc.replace("TRIAL_VAR reader_id R01", "TRIAL_VAR recording_id a\0b"))
    put("imgtravel.asc", asc.replace("TRIAL_VAR image_id cxr_0001", "TRIAL_VAR image_id ../../../img_escaped"))
    lines = asc.splitlines()
    huge = [ln if not ln[:1].isdigit() else ln.replace("640.0", "1e308", 1) for ln in lines]
    put("huge_gaze.asc", "\n".join(huge) + "\n")
    # a gzip bomb: 120 KB on disk, 120 MB decompressed of one endless sample line
    put("bomb.asc.gz", gzip.compress(asc.encode()[:2000] + b"9" * 120_000_000, compresslevel=9))
    gen = (DATA / "generic" / "gaze.csv").read_text()
    f["generic"] = put("good/gaze.csv", gen)
    put("generic_huge.csv", gen.replace("500,400", "1e308,400"))
    put("generic_backwards.csv", "timestamp,gx,gy,pupil\n" + "".join(
        f"{t},{500 + i},{400},3.0\n" for i, t in enumerate([40, 30, 20, 10, 0])
    ))
    put("longfield.tsv", (DATA / "tobii" / "prolab_export.tsv").read_text().replace(
        "\t", "\t" + "x" * 200_000 + "\t", 1))
    put("bomb.png", _png_header(30000, 30000))
    put("events_neg.csv", "recording_id,x_px,y_px,onset_ms,duration_ms\nr,10,10,0,-1e9\nr,20,20,10,100\n")
    put("events_ok.csv", "recording_id,x_px,y_px,onset_ms,duration_ms\nr,10,10,0,200\nr,20,20,300,100\n")
    put("events_nan.csv", "recording_id,x_px,y_px,onset_ms,duration_ms\nr,nan,10,0,200\nr,1e308,20,300,100\n")
    put("chexmask_huge.csv", "Image,Dice RCA (Mean),Dice RCA (Max),Landmarks,Left Lung,Right Lung,Heart,"
        "Height,Width\nimg,0.9,0.9,,1 10,20 10,,1000000,1000000\n")
    put("chexmask_travel.csv", "Image,Dice RCA (Mean),Dice RCA (Max),Landmarks,Left Lung,Right Lung,Heart,"
        "Height,Width\n../../chex_escaped,0.9,0.9,,1 10,20 10,,64,64\n"
        "/tmp/chex_abs_escaped,0.9,0.9,,1 10,20 10,,64,64\n")
    put("params_bad.json", "{not json")
    put("params_list.json", "[1, 2, 3]")
    put("config_bad.json", "{\"lr\": \"fast\"")
    put("config_neg.json", json.dumps({"lr": -1.0, "batch_size": 0}))
    (root / "emptydir").mkdir(exist_ok=True)
    f["emptydir"] = root / "emptydir"
    f["notadir"] = put("plainfile.txt", "a file, not a directory\n")
    f["unwritable"] = f["notadir"] / "sub"  # a path under a file: ENOTDIR for everyone, root too
    f["devzero"] = Path("/dev/zero")
    f["marker"] = root / "PICKLE_RAN"
    put("marker.pt", pickle.dumps(_Marker(str(f["marker"]))))
    import torch

    torch.save({"format_version": 1, "task": "intent"}, root / "partial.pt")
    f["partial_pt"] = root / "partial.pt"
    np.savez(root / "atlas_wrong.npz", a=np.zeros(3))
    f["atlas_wrong_npz"] = root / "atlas_wrong.npz"
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.table({"t_ms": [0.0, 1.0]}).replace_schema_metadata({b"gazekit": b'{"schema": "samp'})
    pq.write_table(t, root / "badmeta.parquet")
    f["badmeta_parquet"] = root / "badmeta.parquet"
    if dataset is not None:
        bad = root / "ds_badrec"
        shutil.copytree(dataset, bad)
        (bad / "recordings.parquet").write_bytes(garbage)
        f["ds_badrec"] = bad
        trunc = root / "ds_trunc"
        shutil.copytree(dataset, trunc)
        for s in (trunc / "samples").glob("*.parquet"):
            s.write_bytes(s.read_bytes()[: s.stat().st_size // 2])
        f["ds_trunc"] = trunc
        f["samples_file"] = next((dataset / "samples").glob("*.parquet"))
        man = root / "pipe_badmanifest"
        man.mkdir(exist_ok=True)
        (man / "_manifest.sqlite").write_bytes(garbage)
        f["pipe_badmanifest"] = man
    return f


def no_escape(case: str, *names: str) -> Callable[[dict[str, Path]], str | None]:
    """Check that no file named like ``names`` exists outside the case's output directory."""

    def check(f: dict[str, Path]) -> str | None:
        allowed = f["root"] / "out" / case
        for name in names:
            for p in [*f["root"].parent.rglob(f"*{name}*"), *Path("/tmp").glob(f"*{name}*")]:
                if not p.is_relative_to(allowed):
                    return f"{p} was written outside the output directory"
        return None

    return check


def marker_absent(f: dict[str, Path]) -> str | None:
    """The pickle in ``marker.pt`` must never have run."""
    return f"{f['marker']} exists: a checkpoint ran code" if f["marker"].exists() else None


def _c(id: str, *argv: str, expect: str = "error", check=None, pipeline: bool = False,
       known: str | None = None, hangs: bool = False, slow: bool = False) -> Case:  # fmt: skip
    return Case(id, tuple(argv), expect, check, pipeline, known, hangs, slow)


def cases() -> list[Case]:
    """Every case of the matrix (fixtures: ``ds`` dataset, ``ck`` intent checkpoint)."""
    out = "{root}/out/{case}"
    c: list[Case] = []
    # ---------------------------------------------------------------- convert
    for kind in ("garbage_bin", "garbage_asc", "garbage_csv", "garbage_tsv", "empty_asc",
                 "empty_csv", "truncated_asc", "garbage_parquet", "rate0_asc", "ratenan_asc",
                 "longfield_tsv", "huge_gaze_asc", "bomb_asc_gz", "samples_file"):  # fmt: skip
        c.append(_c(f"convert_{kind}", "convert", f"{{{kind}}}", "-o", out))
    c += [
        _c("convert_all_fail_reasons_shown", "convert", "{garbage_asc}", "{rate0_asc}", "-o", out),
        _c("convert_dev_zero", "convert", "{devzero}", "-o", out),
        _c("convert_empty_folder", "convert", "{emptydir}", "-o", out),
        _c("convert_unwritable_output", "convert", "{asc}", "-o", "{unwritable}"),
        _c("convert_output_is_a_file", "convert", "{asc}", "-o", "{notadir}"),
        _c("convert_into_unrelated_folder_refused", "convert", "{asc}", "-o", "{root}/good"),
        _c("convert_jobs_negative", "convert", "{asc}", "-o", out, "-j", "-2"),
        _c("convert_distance_zero", "convert", "{asc}", "-o", out, "--distance-mm", "0"),
        _c("convert_distance_inf", "convert", "{asc}", "-o", out, "--distance-mm", "inf"),
        _c("convert_screen_negative", "convert", "{asc}", "-o", out, "--screen-mm", "-5x3"),
        _c("convert_screen_nan", "convert", "{asc}", "-o", out, "--screen-mm", "nanx300"),
        _c("convert_screen_one_pixel", "convert", "{asc}", "-o", out, "--screen-px", "1x1"),
        _c("convert_generic_gaze_1e308", "convert", "{generic_huge_csv}", "--format", "generic",
           "--map", "t=timestamp,x=gx,y=gy", "-o", out),
        _c("convert_generic_time_backwards", "convert", "{generic_backwards_csv}", "--format",
           "generic", "--map", "t=timestamp,x=gx,y=gy", "-o", out),
        _c("convert_map_without_column", "convert", "{generic}", "--format", "generic", "--map",
           "t=timestamp,x", "-o", out),
        _c("convert_id_with_dotdot_stays_inside", "convert", "{travel_asc}", "-o", out,
           expect="safe", check=no_escape("convert_id_with_dotdot_stays_inside", "escaped")),
        _c("convert_absolute_id_stays_inside", "convert", "{absolute_asc}", "-o", out,
           expect="safe", check=no_escape("convert_absolute_id_stays_inside", "absolute_escaped")),
        _c("convert_nul_in_id", "convert", "{nulid_asc}", "-o", out, expect="safe"),
        _c("convert_duplicate_inputs_read_once", "convert", "{asc}", "{asc}", "-o", out,
           expect="safe", check=lambda f: _n_recordings(f, "convert_duplicate_inputs_read_once", 1)),
    ]
    # ---------------------------------------------------------------- info
    c += [
        _c("info_garbage_parquet", "info", "{garbage_parquet}"),
        _c("info_empty_parquet", "info", "{empty_parquet}"),
        _c("info_not_a_dataset", "info", "{emptydir}"),
        _c("info_unknown_recording", "info", "{ds}", "--recording", "../../etc/passwd"),
    ]
    # ---------------------------------------------------------------- simulate
    c += [
        _c("simulate_readers_unbounded", "simulate", "--readers", "100000000", "-o", out),
        _c("simulate_images_unbounded", "simulate", "-n", "100000000", "-o", out),
        _c("simulate_zero_images", "simulate", "-n", "0", "-o", out),
        _c("simulate_image_size_huge", "simulate", "--image-size-px", "1000000", "-o", out),
        _c("simulate_unwritable_output", "simulate", "-n", "1", "--readers", "1",
           "--image-size-px", "256", "-o", "{unwritable}"),
        _c("simulate_over_existing_without_overwrite", "simulate", "-n", "1", "--readers", "1",
           "--image-size-px", "256", "-o", "{ds_copy}"),
        _c("simulate_duration_negative", "simulate", "--min-duration-s", "-5", "-o", out),
    ]
    # ---------------------------------------------------------------- events
    for kind in ("garbage_parquet", "empty_parquet", "badmeta_parquet", "ds_trunc", "ds_badrec",
                 "emptydir"):  # fmt: skip
        c.append(_c(f"events_{kind}", "events", f"{{{kind}}}", "-o", out, "--no-progress"))
    c += [
        _c("events_dev_zero", "events", "{devzero}", "-o", out, "--no-progress"),
        _c("events_unwritable_output", "events", "{ds}", "-o", "{unwritable}", "--no-progress"),
        _c("events_sg_window_huge", "events", "{ds}", "-o", out, "--sg-window-ms", "1e9", "--no-progress"),
        _c("events_threshold_negative", "events", "{ds}", "-o", out, "--velocity-threshold-deg-s", "-5",
           "--no-progress"),
        _c("events_threshold_nan", "events", "{ds}", "-o", out, "--velocity-threshold-deg-s", "nan",
           "--no-progress"),
        _c("events_min_fixation_negative", "events", "{ds}", "-o", out, "--min-fixation-ms", "-1",
           "--no-progress"),
        _c("events_max_gap_inf", "events", "{ds}", "-o", out, "--max-gap-ms", "inf", "--no-progress"),
        _c("events_jobs_negative", "events", "{ds}", "-o", out, "-j", "-2", "--no-progress"),
        _c("events_distance_zero", "events", "{ds}", "-o", out, "--distance-mm", "0", "--no-progress"),
        _c("events_unknown_method", "events", "{ds}", "-o", out, "--method", "magic", "--no-progress"),
        _c("events_param_out_of_range", "events", "{ds}", "-o", out, "--sg-order", "9", "--no-progress"),
        _c("events_duplicate_inputs_counted_once", "events", "{ds}", "{ds}", "-o", out,
           "--no-progress", expect="safe",
           check=lambda f: _events_match(f, "events_duplicate_inputs_counted_once")),
    ]
    # ---------------------------------------------------------------- anatomy
    c += [
        _c("anatomy_garbage_npz", "anatomy", "{garbage_npz}"),
        _c("anatomy_empty_npz", "anatomy", "{empty_npz}"),
        _c("anatomy_wrong_npz", "anatomy", "{atlas_wrong_npz}"),
        _c("anatomy_garbage_csv", "anatomy", "{garbage_csv}"),
        _c("anatomy_empty_csv", "anatomy", "{empty_csv}"),
        _c("anatomy_chexmask_huge_size", "anatomy", "{chexmask_huge_csv}", "-o", out),
        _c("anatomy_chexmask_id_stays_inside", "anatomy", "{chexmask_travel_csv}", "-o", out,
           expect="safe", check=no_escape("anatomy_chexmask_id_stays_inside", "chex_escaped", "chex_abs_escaped")),
        _c("anatomy_png_bomb_labelmap", "anatomy", "{bomb_png}", "--names", "{garbage_json}"),
        _c("anatomy_garbage_json_boxes", "anatomy", "{garbage_json}"),
        _c("anatomy_template_bad_shape", "anatomy", "{garbage_csv}", "--format", "template",
           "--shape-px", "0x0"),
    ]
    # ---------------------------------------------------------------- heatmap
    hm = ("--shape-px", "64x64", "-o", out)  # σ 1° needs a geometry: px σ given per case
    c += [
        _c("heatmap_garbage_events", "heatmap", "{garbage_parquet}", *hm),
        _c("heatmap_empty_csv", "heatmap", "{empty_csv}", *hm),
        _c("heatmap_garbage_csv", "heatmap", "{garbage_csv}", *hm),
        _c("heatmap_negative_duration", "heatmap", "{events_neg_csv}", *hm),
        _c("heatmap_nan_or_huge_coordinates", "heatmap", "{events_nan_csv}", *hm),
        _c("heatmap_png_bomb_image", "heatmap", "{events_ok_csv}", "--image", "{bomb_png}",
           "--sigma-px", "1", "-o", out),
        _c("heatmap_garbage_image", "heatmap", "{events_ok_csv}", "--image", "{garbage_png}",
           "--sigma-px", "1", "-o", out),
        _c("heatmap_sigma_negative", "heatmap", "{events_ok_csv}", "--sigma-px", "-1", *hm),
        _c("heatmap_sigma_nan", "heatmap", "{events_ok_csv}", "--sigma-px", "nan", *hm),
        _c("heatmap_downsample_zero", "heatmap", "{events_ok_csv}", "--downsample", "0", *hm),
        _c("heatmap_shape_zero", "heatmap", "{events_ok_csv}", "--sigma-px", "1", "--shape-px",
           "0x0", "-o", out),
        _c("heatmap_px_per_deg_zero", "heatmap", "{events_ok_csv}", "--px-per-deg", "0",
           "--shape-px", "64x64", "-o", out),
        _c("heatmap_unwritable_output", "heatmap", "{events_ok_csv}", "--sigma-px", "1",
           "--shape-px", "64x64", "-o", "{unwritable}"),
        _c("heatmap_garbage_atlas", "heatmap", "{events_ok_csv}", "--anatomy", "{garbage_npz}", *hm),
        _c("heatmap_bad_chest_box", "heatmap", "{events_ok_csv}", "--anatomy", "template",
           "--chest-box", "1,2,3", *hm),
    ]
    # ---------------------------------------------------------------- intent
    c += [
        _c("intent_not_a_dataset", "intent", "{emptydir}"),
        _c("intent_garbage_recordings", "intent", "{ds_badrec}", "-o", "{root}/out/intent.parquet"),
        _c("intent_unknown_regime", "intent", "{ds}", "--regime", "nonsense", "-o",
           "{root}/out/i1.parquet"),
        _c("intent_negative_lag", "intent", "{ds}", "--lag-before-s", "-1", "-o", "{root}/out/i2.parquet"),
        _c("intent_nan_margin", "intent", "{ds}", "--margin-deg", "nan", "-o", "{root}/out/i3.parquet"),
        _c("intent_unwritable_output", "intent", "{ds}", "-o", "{unwritable}/x.parquet"),
        _c("intent_over_existing_without_overwrite", "intent", "{ds}", "-o", "{garbage_parquet}"),
    ]
    # ---------------------------------------------------------------- train / predict / evaluate
    tr = ("train", "intent", "--data", "{ds}")
    c += [
        _c("train_max_steps_negative", *tr, "-o", out, "--max-steps", "-1"),
        _c("train_max_steps_zero", *tr, "-o", out, "--max-steps", "0"),
        _c("train_device_tpu", *tr, "-o", out, "--device", "tpu", "--max-steps", "1"),
        _c("train_config_garbage", *tr, "-o", out, "--config", "{config_bad_json}"),
        _c("train_config_impossible", *tr, "-o", out, "--config", "{config_neg_json}"),
        _c("train_config_missing", *tr, "-o", out, "--config", "{root}/nope.toml"),
        _c("train_not_a_dataset", "train", "intent", "--data", "{emptydir}", "-o", out),
        _c("train_unwritable_output", *tr, "-o", "{unwritable}", "--max-steps", "1"),
        _c("train_replaces_existing_run", *tr, "-o", "{run_copy}", "--max-steps", "1"),
        _c("train_resume_garbage_checkpoint", *tr, "-o", "{run_garbage}", "--resume", "--max-steps", "1"),
        _c("train_resume_pickle_checkpoint", *tr, "-o", "{run_pickle}", "--resume", "--max-steps", "1",
           check=marker_absent),
    ]
    pr = ("predict", "intent", "--data", "{ds}")
    for kind in ("garbage_pt", "empty_pt", "marker_pt", "partial_pt", "samples_file"):
        c.append(_c(f"predict_checkpoint_{kind}", *pr, "--checkpoint", f"{{{kind}}}", "-o",
                    "{root}/out/p.parquet", check=marker_absent))
    c += [
        _c("predict_wrong_task", "predict", "scanpath", "--data", "{ds}", "--checkpoint", "{ck}",
           "-o", "{root}/out/p2.parquet"),
        _c("predict_samples_zero", "predict", "scanpath", "--data", "{ds}", "--checkpoint", "{ck}",
           "-o", "{root}/out/p3.parquet", "--samples", "0"),
        _c("predict_unwritable_output", *pr, "--checkpoint", "{ck}", "-o", "{unwritable}/p.parquet"),
        _c("predict_over_existing_without_overwrite", *pr, "--checkpoint", "{ck}", "-o",
           "{garbage_parquet}"),
        _c("predict_not_a_dataset", "predict", "intent", "--data", "{emptydir}", "--checkpoint",
           "{ck}", "-o", "{root}/out/p4.parquet"),
        _c("evaluate_garbage_checkpoint", "evaluate", "intent", "--data", "{ds}", "--checkpoint",
           "{garbage_pt}", "-o", out),
        _c("evaluate_pickle_checkpoint", "evaluate", "intent", "--data", "{ds}", "--checkpoint",
           "{marker_pt}", "-o", out, check=marker_absent),
        _c("evaluate_samples_zero", "evaluate", "scanpath", "--data", "{ds}", "--checkpoint",
           "{ck}", "-o", out, "--samples", "0"),
    ]
    # ---------------------------------------------------------------- pipeline
    pp = dict(pipeline=True)
    c += [
        _c("pipeline_dev_zero", "pipeline", "{devzero}", "-o", out, "--no-progress", **pp),
        _c("pipeline_garbage_input", "pipeline", "{garbage_asc}", "-o", out, "--no-progress", **pp),
        _c("pipeline_bad_params_file", "pipeline", "{asc}", "-o", out, "--params-file",
           "{params_bad_json}", "--no-progress", **pp),
        _c("pipeline_params_file_not_a_mapping", "pipeline", "{asc}", "-o", out, "--params-file",
           "{params_list_json}", "--no-progress", **pp),
        _c("pipeline_workers_negative", "pipeline", "{asc}", "-o", out, "-j", "-2", "--no-progress", **pp),
        _c("pipeline_unreachable_scheduler", "pipeline", "{asc}", "-o", out, "--scheduler",
           "tcp://127.0.0.1:9", "--no-progress", **pp, slow=True),
        _c("pipeline_corrupt_manifest", "pipeline", "{asc}", "-o", "{pipe_badmanifest}",
           "--no-progress", **pp),
        _c("pipeline_unwritable_output", "pipeline", "{asc}", "-o", "{unwritable}", "--no-progress", **pp),
        _c("pipeline_unrelated_nonempty_output", "pipeline", "{asc}", "-o", "{root}/good",
           "--no-progress", **pp),
    ]
    # ---------------------------------------------------------------- demo
    c += [
        _c("demo_zero_images", "demo", "--images", "0", "-o", out),
        _c("demo_unwritable_output", "demo", "--images", "1", "--readers", "1", "--image-size-px",
           "128", "-o", "{unwritable}"),
    ]
    return c


def _n_recordings(f: dict[str, Path], case: str, n: int) -> str | None:
    from gazekit.io.parquet import read_frame

    p = f["root"] / "out" / case / "recordings.parquet"
    if not p.is_file():
        return None  # refused: fine
    got = len(read_frame(p, "recordings"))
    return None if got == n else f"{got} recordings written, {n} expected"


def _events_match(f: dict[str, Path], case: str) -> str | None:
    from gazekit.io.parquet import read_frame

    p = f["root"] / "out" / case / "events.parquet"
    ref = f["ds"] / "events.parquet"
    if not p.is_file():
        return None
    ours = read_frame(p, "events")
    theirs = read_frame(ref, "events")
    n_ref = int((theirs["source"] == "detected").sum()) if "source" in theirs else len(theirs)
    n = int((ours["source"] == "detected").sum())
    return None if n == n_ref else f"{n} detected events, {n_ref} from one input"


def expand(case: Case, f: dict[str, Path]) -> list[str]:
    """``case.argv`` with fixture names filled in."""
    names = {k: str(v) for k, v in f.items()}
    names["case"] = case.id
    return [a.format(**names) for a in case.argv]


def classify(exit_code: int | None, output: str, crashed: bool, expect: str) -> str:
    """One of :data:`OUTCOMES` for a finished run.

    Parameters
    ----------
    exit_code : int or None
        ``None`` when the run was killed for taking too long.
    output : str
        stdout and stderr together.
    crashed : bool
        The command ended with an exception other than ``SystemExit`` (in-process) or
        printed a Python traceback (subprocess).
    expect : {"error", "safe"}
    """
    if exit_code is None:
        return "hang"
    if crashed or "Traceback (most recent call last)" in output or "internal error" in output:
        return "traceback"
    if exit_code == 0:
        return "ok" if expect == "safe" else "silent_wrong"
    lines = [ln for ln in output.splitlines() if ln.startswith("Error: ")]
    if not lines or output.strip().endswith("Aborted!"):
        return "traceback"
    return "clean_error"
