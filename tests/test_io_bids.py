"""BIDS eye-tracking export and import: spec layout, validator, round trips, errors."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gazekit.cli.main import cli
from gazekit.errors import InputError
from gazekit.io import detect_format, read, write
from gazekit.io.bids_common import bids_labels, check_id
from gazekit.io.convert import convert
from gazekit.io.dataset_dir import write_dataset
from gazekit.io.export import export, load_for_export
from gazekit.synthetic import simulate_corpus, simulate_session
from gazekit.synthetic.export import write_sessions


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A simulated Gazepoint-like corpus: 2 radiographs x 2 readers, with images."""
    out = tmp_path_factory.mktemp("corpus") / "sim"
    write_sessions(simulate_corpus(2, seed=5, n_readers=2, image_size=128), out)
    return out


@pytest.fixture(scope="module")
def corpus_bids(corpus, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bids") / "bids"
    export(corpus, root, "bids")
    return root


@pytest.fixture(scope="module")
def binocular(tmp_path_factory) -> Path:
    """A 1000 Hz binocular EyeLink-like recording (tracker clock from 1,000,000 ms) as a dataset."""
    tmp = tmp_path_factory.mktemp("bino")
    s = simulate_session(seed=3, tracker="eyelink", strategy="hybrid", image_size=128)
    write([s.recording], tmp / "asc", "asc", binocular=True)
    (rec,) = read(tmp / "asc" / f"{s.recording.recording_id}.asc")
    ds = tmp / "ds"
    write_dataset([rec], ds, created_by="test")
    return ds


def _assert_same(a_dir: Path, b_dir: Path, dt_ms: float) -> None:
    a = {r.recording_id: r for r in load_for_export(a_dir)}
    b = {r.recording_id: r for r in load_for_export(b_dir)}
    assert a.keys() == b.keys()
    for rid, ra in a.items():
        rb = b[rid]
        assert (rb.image_id, rb.reader_id, rb.corpus) == (ra.image_id, ra.reader_id, ra.corpus)
        assert rb.geometry == ra.geometry
        assert rb.sampling_rate_hz == ra.sampling_rate_hz
        assert rb.t0 == pytest.approx(ra.t0)
        assert rb.extra.get("eyes") == ra.extra.get("eyes")
        sa, sb = ra.samples, rb.samples
        assert len(sa) == len(sb)
        assert np.abs(sb["t_ms"].to_numpy() - sa["t_ms"].to_numpy()).max() < dt_ms
        np.testing.assert_array_equal(sb["valid"].to_numpy(), sa["valid"].to_numpy())
        for c in sb.columns.drop(["t_ms", "valid"]):
            np.testing.assert_allclose(sb[c], sa[c], rtol=1e-12, atol=1e-9, err_msg=c)
        key = ["onset_ms", "eye", "event", "method"]
        ea = ra.events.sort_values(key).reset_index(drop=True)
        eb = rb.events.sort_values(key).reset_index(drop=True)
        assert len(ea) == len(eb)
        for c in ("event", "source", "method", "eye"):
            assert ea[c].astype(object).tolist() == eb[c].astype(object).tolist(), c
        for c in ("onset_ms", "offset_ms"):
            assert np.abs(eb[c].to_numpy() - ea[c].to_numpy()).max() < dt_ms
        num = [
            c for c in ea.columns if ea[c].dtype.kind == "f" and c not in ("onset_ms", "offset_ms")
        ]
        for c in num:
            np.testing.assert_allclose(eb[c], ea[c], rtol=1e-12, atol=1e-9, err_msg=c)


def test_simulated_corpus_round_trips_through_bids_keeping_every_sample_and_event(
    corpus, corpus_bids, tmp_path
):
    assert detect_format(corpus_bids) == "bids"
    result = convert([corpus_bids], tmp_path / "back")
    assert result.ok and len(result.recordings) == 4
    _assert_same(corpus, tmp_path / "back", dt_ms=1000.0 / 60.0)


def test_binocular_recording_with_detected_events_round_trips(binocular, tmp_path):
    from gazekit.events import detect
    from gazekit.io.dataset_dir import open_dir
    from gazekit.io.parquet import read_frame, write_table

    (rec,) = open_dir(binocular)
    detected = detect(rec, method="ivt")
    ev = pd.concat([read_frame(binocular / "events.parquet", "events"), detected])
    write_table(ev, binocular / "events.parquet", "events")
    export(binocular, tmp_path / "bids", "bids")
    beh = tmp_path / "bids" / "sub-R1" / "beh"
    eyes = {
        json.loads(f.read_text())["RecordedEye"] for f in beh.glob("*_recording-eye*_physio.json")
    }
    assert eyes == {"left", "right"}
    convert([tmp_path / "bids"], tmp_path / "back")
    _assert_same(binocular, tmp_path / "back", dt_ms=1.0)


def test_files_follow_the_bids_physio_eyetrack_layout(corpus_bids):
    desc = json.loads((corpus_bids / "dataset_description.json").read_text())
    assert desc["BIDSVersion"].startswith("1.11") and desc["DatasetType"] == "raw"
    parts = pd.read_csv(corpus_bids / "participants.tsv", sep="\t")
    assert parts["participant_id"].tolist() == ["sub-R1", "sub-R2"]
    physio = sorted(corpus_bids.glob("sub-*/beh/*_recording-eye1_physio.tsv.gz"))
    assert len(physio) == 4
    f = physio[0]
    raw = f.read_bytes()
    assert raw[3] & 0x08 == 0, "no file name in the gzip header"
    first = gzip.decompress(raw).decode().splitlines()[0].split("\t")
    assert [float(v) for v in first]  # data on the first line: no header row
    meta = json.loads(f.with_name(f.name.replace(".tsv.gz", ".json")).read_text())
    assert meta["Columns"] == ["timestamp", "x_coordinate", "y_coordinate", "pupil_size"]
    assert meta["PhysioType"] == "eyetrack" and meta["RecordedEye"] == "cyclopean"
    assert meta["SampleCoordinateSystem"] == "gaze-on-screen"
    assert meta["SamplingFrequency"] == 60.0 and meta["StartTime"] == 0.0
    assert meta["x_coordinate"]["Units"] == meta["y_coordinate"]["Units"] == "pixel"
    pev = json.loads(f.with_name(f.name.replace("physio.tsv.gz", "physioevents.json")).read_text())
    assert pev["OnsetSource"] == "timestamp" and pev["Columns"][:3] == [
        "onset",
        "duration",
        "trial_type",
    ]
    assert pev["duration"]["Units"] == "s"
    ev_json = json.loads(next(f.parent.glob("*run-1_events.json")).read_text())
    sp = ev_json["StimulusPresentation"]
    # the simulator's screen: 531 x 298 mm, 1920 x 1080 px, 700 mm away
    assert sp == {
        "ScreenOrigin": ["top", "left"],
        "ScreenDistance": 0.7,
        "ScreenResolution": [1920, 1080],
        "ScreenSize": [0.531, 0.298],
    }
    ev = pd.read_csv(next(f.parent.glob("*run-1_events.tsv")), sep="\t")
    assert ev["trial_type"].tolist() == ["radiograph"] and ev["onset"].tolist() == [0.0]
    assert (corpus_bids / "stimuli" / ev["stim_file"][0]).is_file()


def _validator() -> list[str]:
    exe = shutil.which("bids-validator-deno", path=str(Path(sys.executable).parent))
    exe = exe or shutil.which("bids-validator-deno")
    if exe is None:
        pytest.skip("bids-validator-deno is not installed (pip install 'gazekit-cxr[bids]')")
    return [exe]


def test_exported_corpus_passes_the_bids_validator_without_errors(corpus_bids):
    proc = subprocess.run(
        [*_validator(), str(corpus_bids), "--format", "json", "--max-rows", "-1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(proc.stdout)
    errors = [i for i in report["issues"]["issues"] if i["severity"] == "error"]
    assert errors == [], errors[:3]
    # what is left are recommendations gazekit cannot know (authors, licence, institution)
    codes = {i.get("subCode") or i["code"] for i in report["issues"]["issues"]}
    assert codes <= {
        "HEDVersion",
        "License",
        "SourceDatasets",
        "Authors",
        "TOO_FEW_AUTHORS",
        "CogAtlasID",
        "CogPOID",
        "InstitutionAddress",
        "InstitutionName",
        "InstitutionalDepartmentName",
        "Instructions",
    }


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("../escape", id="parent_dir"),
        pytest.param("a/b", id="slash"),
        pytest.param("a\\b", id="backslash"),
        pytest.param("/etc/passwd", id="absolute_posix"),
        pytest.param("C:\\x", id="absolute_windows"),
        pytest.param("nul\x00", id="nul_byte"),
        pytest.param("", id="empty"),
    ],
)
def test_ids_that_could_leave_the_output_folder_are_refused(value, tmp_path):
    with pytest.raises(InputError, match="leave the output folder"):
        check_id(value)
    s = simulate_session(seed=1, image_size=64)
    s.recording.recording_id = value
    with pytest.raises(InputError):
        write([s.recording], tmp_path / "out", "bids")
    assert not any(tmp_path.rglob("*physio*"))


def test_bids_labels_are_alphanumeric_deterministic_and_distinct():
    ids = ["R-1", "R_1", "R1x", None, "??"]
    labels = bids_labels(ids)
    assert labels == bids_labels(list(reversed(ids)))
    assert all(v.isalnum() for v in labels.values())
    assert len(set(labels.values())) == len(ids)
    assert labels["R1x"] == "R1x" and labels["R-1"].startswith("R1") and labels["R-1"] != "R1"


def _foreign_dataset(root: Path) -> Path:
    """A hand-written dataset in the spec's example style, with an inherited sidecar."""
    beh = root / "sub-01" / "beh"
    beh.mkdir(parents=True)
    (root / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.11.1"}')
    (root / "task-search_recording-eye1_physio.json").write_text(
        json.dumps(
            {
                "SamplingFrequency": 1000,
                "StartTime": -0.005,
                "PhysioType": "eyetrack",
                "Columns": ["timestamp", "x_coordinate", "y_coordinate", "pupil_size"],
                "RecordedEye": "right",
                "SampleCoordinateSystem": "gaze-on-screen",
                "x_coordinate": {"Units": "pixel"},
                "y_coordinate": {"Units": "pixel"},
                "pupil_size": {"Description": "pupil area", "Units": "arbitrary"},
                "timestamp": {"Units": "ms"},
            }
        )
    )
    rows = [f"{7186799 + i}\t{416.0 + i}\t{267.0}\t{4612.0}" for i in range(10)]
    rows[4] = "7186803\tn/a\tn/a\tn/a"
    stem = "sub-01_task-search_recording-eye1"
    (beh / f"{stem}_physio.tsv.gz").write_bytes(gzip.compress("\n".join(rows).encode() + b"\n"))
    (beh / f"{stem}_physioevents.json").write_text(
        json.dumps(
            {"Columns": ["onset", "duration", "trial_type", "message"], "OnsetSource": "timestamp"}
        )
    )
    ev = [
        '7186790\tn/a\tn/a\t"First task trigger"',
        "7186800\t0.003\tfixation\tn/a",
        "7186803\t0.002\tblink\tn/a",
    ]
    (beh / f"{stem}_physioevents.tsv.gz").write_bytes(gzip.compress("\n".join(ev).encode() + b"\n"))
    (beh / "sub-01_task-search_events.tsv").write_text("onset\tduration\ttrial_type\n0\t1\tstim\n")
    (beh / "sub-01_task-search_events.json").write_text(
        json.dumps(
            {
                "StimulusPresentation": {
                    "ScreenDistance": 0.6,
                    "ScreenOrigin": ["top", "left"],
                    "ScreenResolution": [1024, 768],
                    "ScreenSize": [0.386, 0.29],
                }
            }
        )
    )
    return root


def test_a_dataset_written_by_another_tool_reads_with_inherited_sidecars(tmp_path):
    root = _foreign_dataset(tmp_path / "foreign")
    assert detect_format(root) == "bids"
    (rec,) = read(root)
    assert rec.recording_id == "sub-01_task-search" and rec.reader_id == "01"
    assert rec.extra["eyes"] == ["right"] and rec.sampling_rate_hz == 1000.0
    # StartTime -5 ms: the first sample is 5 ms before the events' zero
    np.testing.assert_allclose(rec.samples["t_ms"], np.arange(10) - 5.0)
    assert rec.t0 == 7186799 + 5
    assert rec.samples["valid"].tolist() == [True] * 4 + [False] + [True] * 5
    g = rec.geometry
    assert (g.frame, g.screen_w_px, g.screen_h_px) == ("screen", 1024.0, 768.0)
    assert (g.screen_w_mm, g.screen_h_mm, g.viewing_distance_mm) == (386.0, 290.0, 600.0)
    ev = rec.events
    assert ev["event"].tolist() == ["fixation", "blink"]  # the message row is not an event
    np.testing.assert_allclose(ev["onset_ms"], [-4.0, -1.0])
    np.testing.assert_allclose(ev["duration_ms"], [3.0, 2.0])
    assert ev["eye"].tolist() == ["right", "right"]


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        pytest.param(
            lambda beh: _rewrite_row(beh, 3, "7186801\t41x.0\t267.0\t4612.0"),
            "line 3, column 'x_coordinate'",
            id="non_numeric_sample_names_line_and_column",
        ),
        pytest.param(
            lambda beh: _rewrite_row(beh, 2, "7186800\t416.0\t267.0"),
            "line 2: 3 fields, the sidecar's Columns name 4",
            id="short_row_names_its_line",
        ),
        pytest.param(
            lambda beh: _rewrite_row(beh, 6, "7186790\t416.0\t267.0\t4612.0"),
            "line 6, column 'timestamp'",
            id="backwards_timestamp_names_its_line",
        ),
        pytest.param(
            lambda beh: (beh / "sub-01_task-search_recording-eye1_physioevents.json").write_text(
                '{"Columns": ["onset",\n "duration" "trial_type"]}'
            ),
            "physioevents.json, line 2",
            id="broken_json_names_its_line",
        ),
    ],
)
def test_bad_bids_input_names_file_line_and_column(tmp_path, edit, where):
    root = _foreign_dataset(tmp_path / "foreign")
    edit(root / "sub-01" / "beh")
    with pytest.raises(InputError, match=re.escape(where)) as err:
        read(root)
    assert ".tsv.gz" in str(err.value) or ".json" in str(err.value)


def _rewrite_row(beh: Path, line: int, text: str) -> None:
    f = beh / "sub-01_task-search_recording-eye1_physio.tsv.gz"
    rows = gzip.decompress(f.read_bytes()).decode().splitlines()
    rows[line - 1] = text
    f.write_bytes(gzip.compress("\n".join(rows).encode() + b"\n"))


def test_gaze_in_degrees_is_refused_not_misread(tmp_path):
    root = _foreign_dataset(tmp_path / "foreign")
    side = root / "task-search_recording-eye1_physio.json"
    meta = json.loads(side.read_text())
    meta["x_coordinate"]["Units"] = "deg"
    side.write_text(json.dumps(meta))
    with pytest.raises(InputError, match=r"x_coordinate\.Units"):
        read(root)


def test_cli_export_then_convert_and_errors_are_messages(corpus, tmp_path):
    out = tmp_path / "bids"
    r = _run("export", corpus, "--to", "bids", "-o", out)
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and (out / "participants.tsv").is_file()
    again = _run("export", corpus, "--to", "bids", "-o", out)
    assert again.exit_code != 0 and "--overwrite" in again.output
    assert again.exception is None or isinstance(again.exception, SystemExit)
    back = _run("convert", out, "-o", tmp_path / "back")
    assert back.exit_code == 0, back.output
    assert "4 recordings" in back.output


def _edit_json(path: Path, **changes) -> None:
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        pytest.param(
            lambda root: (root / "participants.tsv").write_text(""),
            "participants.tsv: unreadable TSV",
            id="empty_participants_table",
        ),
        pytest.param(
            lambda root: (
                root / "sub-01" / "beh" / "sub-01_task-search_recording-eye1_physio.tsv.gz"
            ).write_bytes(gzip.compress(b"")),
            "physio.tsv.gz: no rows (empty file)",
            id="empty_physio_file",
        ),
        pytest.param(
            lambda root: _edit_json(
                root / "task-search_recording-eye1_physio.json", StartTime="soon"
            ),
            "column 'StartTime'",
            id="start_time_not_a_number",
        ),
        pytest.param(
            lambda root: _edit_json(
                root / "task-search_recording-eye1_physio.json", RecordedEye="both"
            ),
            "column 'RecordedEye'",
            id="recorded_eye_not_in_the_spec",
        ),
        pytest.param(
            lambda root: (
                root / "sub-01" / "beh" / "sub-01_task-search_recording-eye1_physio.tsv.gz"
            ).write_bytes(b"\x1f\x8b\x08\x00garbage"),
            "physio.tsv.gz",
            id="corrupt_gzip",
        ),
    ],
)
def test_malformed_tables_and_sidecars_are_input_errors(tmp_path, edit, where):
    root = _foreign_dataset(tmp_path / "foreign")
    (root / "participants.tsv").write_text("participant_id\treader_id\nsub-01\tR-1\n")
    assert read(root)[0].reader_id == "R-1"
    edit(root)
    with pytest.raises(InputError, match=re.escape(where)):
        read(root)


def test_truncated_physio_files_give_input_errors(tmp_path):
    root = _foreign_dataset(tmp_path / "foreign")
    f = root / "sub-01" / "beh" / "sub-01_task-search_recording-eye1_physio.tsv.gz"
    text = gzip.decompress(f.read_bytes())
    for cut in (5, 17, 40, 61, len(text) - 3):
        f.write_bytes(gzip.compress(text[:cut]))
        try:
            (rec,) = read(root)
        except InputError:
            continue
        assert len(rec.samples) <= 10
