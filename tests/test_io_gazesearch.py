"""Scanpath-list reader (GazeSearch JSON, COCO-Search18 shape) and fixation-only datasets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gazekit.errors import InputError
from gazekit.io import base
from gazekit.io.convert import convert
from gazekit.io.dataset_dir import load_recording, open_dir
from gazekit.io.gazesearch import read_scanpath_list, target_name
from gazekit.io.parquet import read_frame

FIXTURE = Path(__file__).parent / "data" / "gazesearch" / "gazesearch_sample.json"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    dst = tmp_path / "gs.json"
    shutil.copyfile(FIXTURE, dst)
    return dst


def _write(tmp_path: Path, records: list[dict]) -> Path:
    p = tmp_path / "list.json"
    p.write_text(json.dumps(records))
    return p


def _rec(**kw: object) -> dict:
    r = {"name": "img1.jpg", "task": "pleural effusion", "X": [10, 100, 200],
         "Y": [20, 110, 210], "T": [0.2, 0.3, 0.25], "subject": 1, "split": "train"}  # fmt: skip
    r.update(kw)
    return r


def test_gazesearch_records_become_fixation_only_recordings_with_target_and_split(sample):
    raw = json.loads(sample.read_text())
    recs = read_scanpath_list(sample)
    assert len(recs) == len(raw)
    r, src = recs[0], raw[0]
    assert r.fixation_only and len(r.samples) == 0
    assert r.target == src["task"].replace(" ", "_")
    assert r.split == src["split"]
    assert r.geometry.frame == "image" and (r.geometry.image_w_px, r.geometry.image_h_px) == (
        224,
        224,
    )
    ev = r.events
    assert (ev["source"] == "tracker").all() and (ev["event"] == "fixation").all()
    np.testing.assert_allclose(ev["duration_ms"], np.array(src["T"]) * 1000.0)
    np.testing.assert_allclose(
        ev["onset_ms"], np.concatenate([[0], np.cumsum(src["T"])[:-1]]) * 1000
    )
    np.testing.assert_allclose(ev["offset_ms"], ev["onset_ms"] + ev["duration_ms"])
    np.testing.assert_array_equal(ev["x_px"], src["X"])
    np.testing.assert_array_equal(ev["y_px"], src["Y"])
    assert r.metadata()["duration_ms"] == pytest.approx(sum(src["T"]) * 1000.0)


@pytest.mark.parametrize(
    ("task", "name"),
    [
        pytest.param("lung opacity", "lung_opacity", id="spaces_become_underscores"),
        pytest.param("Enlarged Cardiomediastinum", "enlarged_cardiomediastinum", id="case_ignored"),
        pytest.param("support_devices", "support_devices", id="already_a_finding"),
        pytest.param("Enlarged cardiac silhouette", "cardiomegaly", id="reflacx_label_mapped"),
        pytest.param("potted plant", "potted_plant", id="non_finding_kept_normalised"),
    ],
)
def test_target_names_map_to_the_project_vocabulary(task, name):
    assert target_name(task) == name


def test_convert_detects_the_list_and_writes_a_fixation_only_dataset(sample, tmp_path):
    assert base.detect_format(sample) == "gazesearch"
    out = tmp_path / "ds"
    res = convert([sample], out)
    assert res.ok and res.n_samples == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fixation_only"] is True
    recs = read_frame(out / "recordings.parquet", "recordings")
    assert recs["fixation_only"].all() and set(recs["split"]) == {"train", "valid"}
    assert recs["target"].str.contains(" ").sum() == 0
    rec = load_recording(out, recs["recording_id"].iloc[3])
    assert rec.fixation_only and rec.target == recs["target"].iloc[3]
    assert len(rec.events) == len(json.loads(sample.read_text())[3]["X"])
    assert len(open_dir(out)) == len(recs)


def test_event_detection_refuses_a_fixation_only_recording(sample):
    from gazekit.events import detect

    rec = read_scanpath_list(sample)[0]
    with pytest.raises(InputError, match=r"fixation-only.*needs samples"):
        detect(rec, "ivt")


def test_coco_search18_shape_reads_with_its_frame_and_millisecond_durations(tmp_path):
    p = _write(tmp_path, [_rec(name="000000.jpg", task="bottle", X=[840, 1600], Y=[525, 1000],
                               T=[250, 400], condition="absent", split="test")])  # fmt: skip
    (r,) = read_scanpath_list(p, frame_px=(1680, 1050))
    assert r.target == "bottle" and r.split == "test" and "absent" in r.recording_id
    np.testing.assert_allclose(r.events["duration_ms"], [250, 400])


@pytest.mark.parametrize(
    ("record", "message"),
    [
        pytest.param(
            _rec(X=[10, 300, 20]), r"record 0.*X=300.*outside the 224 x 224", id="outside_frame"
        ),
        pytest.param(
            {"name": "a.jpg", "X": [1], "Y": [1], "T": [0.2]}, r"lacks key.*task", id="missing_task"
        ),
        pytest.param(_rec(Y=[1, 2]), r"differ in length", id="ragged_lists"),
        pytest.param(
            _rec(T=[0.2, -0.1, 0.3]), r"negative fixation duration", id="negative_duration"
        ),
        pytest.param(_rec(T=[15, 15, 15]), r"s or ms", id="ambiguous_duration_unit"),
        pytest.param(_rec(X=[1, "a", 2]), r"non-numeric", id="non_numeric"),
    ],
)
def test_bad_records_are_refused_naming_the_record(tmp_path, record, message):
    with pytest.raises(InputError, match=message):
        read_scanpath_list(_write(tmp_path, [record]))


def test_duplicate_searches_are_refused(tmp_path):
    with pytest.raises(InputError, match="record 1: same image, target"):
        read_scanpath_list(_write(tmp_path, [_rec(), _rec()]))


def test_invalid_json_names_the_line(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('[{"name": "a.jpg",\n "task": }]')
    with pytest.raises(InputError, match="line 2"):
        read_scanpath_list(p)
