"""gazekit.dataset: one API over pipeline (partitioned) and convert (flat) datasets."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pytest

from gazekit.dataset import open_dataset, to_expression
from gazekit.errors import InputError
from gazekit.pipeline import run_pipeline

sys.path.insert(0, str(Path(__file__).parent))
import test_pipeline as tp


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("dataset")
    src = tp.toy_corpus(root, n=6)
    run_pipeline([src], root / "ds", stages=tp.CHAIN)
    return open_dataset(src), open_dataset(root / "ds")


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["recording_id", "onset_ms"]).reset_index(drop=True)


def test_layout_is_detected_and_tables_listed(both):
    flat, part = both
    assert flat.layout == "flat" and part.layout == "partitioned"
    assert {"events", "recordings", "samples"} <= set(flat.tables())
    assert {"events", "summary", "tracker_events", "samples"} <= set(part.tables())


def test_fixations_filter_on_partition_columns_prunes_readers(both):
    _, part = both
    r1 = part.fixations(filter={"reader": "R1"})
    assert set(r1["reader"]) == {"R1"} and set(r1["recording_id"]) == {"rec00", "rec03"}
    det = part.fixations(source="detected", filter=[("onset_ms", ">", 100.0)])
    assert (det["source"] == "detected").all() and (det["onset_ms"] > 100.0).all()
    assert not det.empty


def test_fixations_are_one_source_and_say_which(both):
    _, part = both
    fix = part.fixations()  # auto: the detected ones when there are any
    assert set(fix["source"]) == {"detected"} and fix.attrs["selection"]["source"] == "detected"


def test_flat_and_partitioned_datasets_give_the_same_tracker_fixations(both):
    flat, part = both
    want = _sorted(flat.fixations(source="tracker"))
    got = _sorted(part.fixations(source="tracker")).drop(columns=["corpus", "reader"])
    pd.testing.assert_frame_equal(got[want.columns], want)


def test_samples_carry_recording_id_in_both_layouts(both):
    for ds in both:
        one = ds.samples(["rec03"])
        assert len(one) == 40 + 7 * 3 and set(one["recording_id"]) == {"rec03"}
    counts = {d.layout: d.samples().groupby("recording_id").size().to_dict() for d in both}
    assert counts["flat"] == counts["partitioned"]


def test_lazy_dask_frame_matches_eager_one_partition_per_recording(both):
    pytest.importorskip("dask.dataframe")
    _, part = both
    lazy = part.samples(lazy=True, columns=["recording_id", "t_ms", "x_px"])
    assert lazy.npartitions == 6
    eager = part.samples(columns=["recording_id", "t_ms", "x_px"])
    got = lazy.compute().sort_values(["recording_id", "t_ms"]).reset_index(drop=True)
    # dask may hold strings as pyarrow-backed string dtype: compare values
    pd.testing.assert_frame_equal(
        got, eager.sort_values(["recording_id", "t_ms"]).reset_index(drop=True), check_dtype=False
    )
    fix = part.events(event="fixation", lazy=True, filter={"corpus": "toy"}).compute()
    assert len(fix) == len(part.events(event="fixation"))


def test_manifest_and_recordings_are_exposed(both):
    flat, part = both
    m = part.manifest()
    assert set(m["stage"]) == {"convert", "detect", "summarize"}
    assert m["input_hash"].str.len().eq(32).all()
    assert sorted(flat.manifest()["recording_id"]) == sorted(part.recordings()["recording_id"])


def test_unknown_table_and_bad_filter_are_input_errors(both, tmp_path):
    _, part = both
    with pytest.raises(InputError, match="no table 'heatmaps'"):
        part.table("heatmaps")
    with pytest.raises(InputError, match="bad filter term"):
        to_expression([("x", "~", 1)])
    with pytest.raises(InputError, match="not a gazekit dataset"):
        open_dataset(tmp_path)
    assert isinstance(to_expression({"reader": ["R1", "R2"]}), pc.Expression)


def test_flat_dataset_resolves_corpus_and_reader_filters_through_recordings(both):
    flat, part = both
    got = _sorted(flat.fixations(filter={"reader": "R1", "corpus": "toy"}, source="tracker"))
    want = _sorted(part.fixations(filter={"reader": "R1"}, source="tracker"))
    assert got["recording_id"].tolist() == want["recording_id"].tolist() == ["rec00", "rec03"]
    assert len(flat.samples(filter={"reader": "R2"})) == len(part.samples(filter={"reader": "R2"}))
