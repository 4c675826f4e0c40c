"""No stale, missing or keyless rows: datasets say what they hold, or refuse."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from gazekit import intent, io, schemas
from gazekit.cli.main import cli
from gazekit.errors import InputError
from gazekit.io.convert import convert
from gazekit.io.dataset_dir import open_dir
from gazekit.io.parquet import read_frame, write_table
from gazekit.synthetic import simulate_corpus
from gazekit.synthetic.export import write_sessions


@pytest.fixture
def dataset(tmp_path):
    d = tmp_path / "ds"
    write_sessions(simulate_corpus(2, seed=4, image_size=128, n_findings=1), d)
    return d


def _sim(out, *extra):
    args = ["simulate", "-n", "1", "--image-size-px", "128", "-o", str(out), *extra]
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_samples_file_rows_carry_their_recording_id(dataset):
    for f in sorted((dataset / "samples").glob("*.parquet")):
        table = pq.read_table(f)  # as any Parquet reader sees it
        assert set(table.column("recording_id").to_pylist()) == {f.stem}
    both = pd.concat([pd.read_parquet(f) for f in (dataset / "samples").glob("*.parquet")])
    assert both["recording_id"].nunique() == 2


def test_recording_id_column_is_dictionary_encoded_in_the_file(dataset):
    f = next((dataset / "samples").glob("*.parquet"))
    col = (
        pq.ParquetFile(f)
        .metadata.row_group(0)
        .column(pq.ParquetFile(f).schema_arrow.get_field_index("recording_id"))
    )
    assert "RLE_DICTIONARY" in col.encodings or "PLAIN_DICTIONARY" in col.encodings


def test_a_listed_recording_without_its_samples_file_is_an_error(dataset):
    from gazekit.pipeline.sources import discover

    victim = sorted((dataset / "samples").glob("*.parquet"))[0]
    victim.unlink()
    with pytest.raises(InputError, match="have no samples file"):
        open_dir(dataset)
    with pytest.raises(InputError, match="have no samples file"):
        discover([dataset])


def test_a_samples_file_of_no_listed_recording_is_an_error(dataset):
    from gazekit.pipeline.sources import discover

    f = sorted((dataset / "samples").glob("*.parquet"))[0]
    (dataset / "samples" / "old-run.parquet").write_bytes(f.read_bytes())
    with pytest.raises(InputError, match="belong to no recording"):
        discover([dataset])


def test_simulate_into_a_non_empty_directory_is_refused(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    r = _sim(tmp_path / "out")
    assert r.exit_code != 0 and "pass --overwrite" in r.output
    r = _sim(tmp_path / "out", "--overwrite")
    assert r.exit_code != 0 and "refusing to delete" in r.output
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


def test_simulate_overwrite_leaves_no_file_of_the_earlier_run(tmp_path):
    out = tmp_path / "out"
    assert _sim(out, "--seed", 1).exit_code == 0
    old = {p.name for p in (out / "samples").glob("*.parquet")}
    r = _sim(out, "--seed", 2, "--overwrite")
    assert r.exit_code == 0, r.output
    new = {p.name for p in (out / "samples").glob("*.parquet")}
    assert new and not (old & new)
    ids = set(read_frame(out / "recordings.parquet", "recordings")["recording_id"])
    assert {n.removesuffix(".parquet") for n in new} == ids


def test_every_reader_records_the_pupil_unit(tmp_path):
    at60 = next(simulate_corpus(1, seed=6, image_size=128, n_findings=1))
    at1000 = next(simulate_corpus(1, seed=6, tracker="eyelink", image_size=128, n_findings=1))
    want = {"egd": "mm", "reflacx": "normalised area", "asc": "arbitrary"}
    for fmt, unit in want.items():
        rec = (at60 if fmt == "egd" else at1000).recording
        io.write([rec], tmp_path / fmt, fmt)
        (rec,) = io.read(tmp_path / fmt if fmt != "asc" else next((tmp_path / fmt).glob("*.asc")))
        assert rec.pupil_unit == unit, fmt
        assert rec.metadata()["pupil_unit"] == unit
    assert schemas.get("recordings").column("pupil_unit").type == "string"


def test_convert_refuses_to_pool_pupil_sizes_in_different_units(tmp_path):
    s = list(simulate_corpus(2, seed=7, image_size=128, n_findings=1))
    io.write([s[0].recording], tmp_path / "egd", "egd")
    io.write([s[1].recording], tmp_path / "asc", "asc")
    inputs = [tmp_path / "egd", tmp_path / "asc"]
    with pytest.raises(InputError, match=r"different units.*'arbitrary'.*'mm'"):
        convert(inputs, tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*.parquet"))  # nothing half-pooled is left
    with pytest.raises(InputError, match="different units"):  # whatever the input order
        convert(inputs[::-1], tmp_path / "out_reversed")
    res = convert(inputs, tmp_path / "out2", allow_mixed_pupil_units=True)
    assert res.ok and len(res.recordings) == 2
    units = read_frame(tmp_path / "out2" / "recordings.parquet", "recordings")["pupil_unit"]
    assert sorted(units) == ["arbitrary", "mm"]


def test_intent_on_a_dataset_without_fixations_says_run_gazekit_events(dataset):
    ev = read_frame(dataset / "events.parquet", "events")
    write_table(ev.iloc[:0], dataset / "events.parquet", "events")
    r = CliRunner().invoke(cli, ["intent", str(dataset)])
    assert r.exit_code != 0
    assert "run `gazekit events` first" in r.output
    assert "Traceback" not in r.output


def test_labels_of_a_recording_without_fixations_are_a_valid_empty_table():
    empty = pd.DataFrame({"x_px": [], "y_px": [], "onset_ms": [], "offset_ms": []}, dtype=float)
    out = intent.label_fixations(empty, None, None, "radexplore", recording_id="r")
    assert len(out) == 0
    schemas.conform(out, "intent_labels")
