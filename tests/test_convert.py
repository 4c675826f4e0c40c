"""``gazekit convert``/``info``: batch behaviour, clear errors on bad input, no half-written output."""

from __future__ import annotations

import gzip
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gazekit.cli.main import cli
from gazekit.errors import GazekitError, InputError
from gazekit.io import read
from gazekit.io.parquet import read_frame


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_convert_every_fixture_format_then_info(tmp_path, data_file):
    out = tmp_path / "ds"
    res = run("convert", data_file("asc"), data_file("egd"), data_file("reflacx"),
              data_file("tobii/prolab_export.tsv"), "-o", out,
              "--allow-mixed-pupil-units")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "7 recordings" in res.output
    recs = read_frame(out / "recordings.parquet", "recordings")
    assert sorted(recs["source_format"].unique()) == ["asc", "egd", "reflacx", "tobii"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["recordings"]) == 7 and manifest["failures"] == []
    info = run("info", out, "--recording", "P102R108387")
    assert info.exit_code == 0 and "reflacx" in info.output and "findings 3" in info.output
    assert "reader identity" in info.output and "unknown (not published)" in info.output
    assert "geometry mode          time-varying" in info.output
    assert "REFLACX phase 1 labels -> GazeIntent" in info.output
    egd = run("info", out, "--recording", recs["recording_id"][recs["corpus"] == "egd"].iloc[0])
    assert "calibration skipped    1 image(s)" in egd.output and "from corpus" in egd.output
    again = run("convert", data_file("asc"), "-o", out)
    assert again.exit_code != 0 and "--overwrite" in again.output
    assert run("convert", data_file("asc"), "-o", out, "--overwrite").exit_code == 0
    assert len(read_frame(out / "recordings.parquet", "recordings")) == 2


def test_generic_csv_through_the_cli_map(tmp_path, data_file):
    res = run("convert", data_file("generic/gaze.csv"), "--format", "generic",
              "--map", "t=timestamp,x=gx,y=gy,pupil=pupil", "-o", tmp_path / "g")  # fmt: skip
    assert res.exit_code == 0, res.output
    bad = run(
        "convert",
        data_file("generic/gaze.csv"),
        "--format",
        "generic",
        "--map",
        "t=timestamp,x",
        "-o",
        tmp_path / "h",
    )
    assert bad.exit_code != 0 and "KEY=COLUMN" in bad.output


def _egd_with(tmp_path, data_file, edit):
    d = data_file("egd")
    lines = (d / "eye_gaze.csv").read_text().splitlines()
    edit(lines)
    (d / "eye_gaze.csv").write_text("\n".join(lines) + "\n")
    return d


def test_bad_inputs_name_file_line_and_column(tmp_path, data_file):
    def cell(lines, line, col, value):
        parts = lines[line - 1].split(",")
        parts[col] = value
        lines[line - 1] = ",".join(parts)

    d = _egd_with(tmp_path, data_file, lambda ls: cell(ls, 7, 12, "abc"))
    with pytest.raises(
        InputError, match=r"eye_gaze\.csv, line 7, column 'BPOGX': non-numeric value 'abc'"
    ):
        read(d)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda ls: ls.__setitem__(0, ls[0].replace("BPOGX,", "BPOG_X,")),
            r"line 1: missing column\(s\) \['BPOGX'\]",
        ),
        (
            lambda ls: ls.__setitem__(9, ls[9].rsplit(",", 5)[0]),
            r"line 10: expected 37 fields, found 32",
        ),
        (lambda ls: ls.__setitem__(slice(1, None), []), r"line 2: no samples \(header only\)"),
        (lambda ls: ls.insert(5, ls[3]), r"line 6, column 'Time \(in secs\)': backwards timestamp"),
        (
            lambda ls: ls.insert(5, ls[4]),
            r"line 6, column 'Time \(in secs\)': duplicated timestamp",
        ),
    ],
    ids=["missing-column", "truncated-line", "header-only", "backwards-time", "duplicated-time"],
)
def test_egd_errors(tmp_path, data_file, edit, message):
    d = _egd_with(tmp_path, data_file, edit)
    with pytest.raises(InputError, match=message):
        read(d)


def test_empty_unknown_bom_gzip_and_utf16_inputs(tmp_path, data_file):
    empty = tmp_path / "empty.asc"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="unknown format"):
        read(empty)
    with pytest.raises(InputError, match="no sample lines"):
        read(empty, "asc")
    text = data_file("asc/monocular.asc").read_bytes()
    (tmp_path / "bom.asc").write_bytes(b"\xef\xbb\xbf" + text)
    (tmp_path / "z.asc.gz").write_bytes(gzip.compress(text))
    (tmp_path / "u16.asc").write_bytes(b"\xff\xfe" + text.decode().encode("utf-16-le"))
    ref = read(data_file("asc/monocular.asc"))[0].samples
    for name in ("bom.asc", "z.asc.gz", "u16.asc"):
        got = read(tmp_path / name)[0].samples
        assert got.equals(ref), name
    (tmp_path / "latin.asc").write_bytes(text.replace(b"CXRReader", b"CXR\xe9"))
    with pytest.raises(InputError, match=r"latin\.asc, line 10: not UTF-8"):
        read(tmp_path / "latin.asc")
    (tmp_path / "cut.asc.gz").write_bytes(gzip.compress(text)[:-20])
    with pytest.raises(InputError, match="cannot read file"):
        read(tmp_path / "cut.asc.gz", "asc")


def test_truncated_asc_sample_line_names_its_line(tmp_path, data_file):
    lines = data_file("asc/monocular.asc").read_text().splitlines()
    i = next(k for k, s in enumerate(lines) if s.startswith("2154565"))
    lines[i] = "2154565\t  640.5"
    f = tmp_path / "t.asc"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=rf"t\.asc, line {i + 1}: sample line has 2 fields"):
        read(f)
    lines[i] = "2154565\t  64x.5\t  512.0\t  1210.0\t..."
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        InputError, match=rf"line {i + 1}, column 'x_RIGHT': non-numeric value '64x.5'"
    ):
        read(f)


def test_one_bad_input_fails_alone_and_the_exit_code_says_so(tmp_path, data_file):
    bad = tmp_path / "bad.asc"
    bad.write_text(
        "** CONVERTED FROM x.edf\nMSG\t1 DISPLAY_COORDS 0 0 1279 1023\n12\t1.0\t2.0\t3.0\t...\n"
    )
    out = tmp_path / "ds"
    res = run("convert", data_file("asc/monocular.asc"), bad, "-o", out)
    assert res.exit_code == 1
    assert "1 input(s) failed: bad.asc" in res.output and "sampling rate" in res.output
    assert len(read_frame(out / "recordings.parquet", "recordings")) == 1
    assert json.loads((out / "manifest.json").read_text())["failures"][0]["input"].endswith(
        "bad.asc"
    )
    ff = run("convert", bad, data_file("asc/monocular.asc"), "-o", tmp_path / "ff", "--fail-fast")
    assert ff.exit_code == 1 and "--fail-fast" in ff.output
    assert not (tmp_path / "ff" / "recordings.parquet").exists()
    assert not list((tmp_path).rglob("*.tmp*"))


def test_jobs_give_the_same_dataset(tmp_path, data_file):
    from gazekit.io.convert import convert

    kw = {"allow_mixed_pupil_units": True}
    a = convert([data_file("asc"), data_file("egd")], tmp_path / "a", **kw)
    b = convert([data_file("asc"), data_file("egd")], tmp_path / "b", jobs=2, **kw)
    assert sorted(a.recordings) == sorted(b.recordings)
    fa = read_frame(tmp_path / "a" / "samples" / "monocular.parquet", "samples")
    fb = read_frame(tmp_path / "b" / "samples" / "monocular.parquet", "samples")
    assert fa.equals(fb)


_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_FUZZ
@given(cut=st.floats(0.0, 1.0), junk=st.binary(max_size=40))
def test_truncated_or_garbled_asc_gives_a_gazekit_error_or_a_recording(
    tmp_path, data_file, cut, junk
):
    text = data_file("asc/monocular.asc").read_bytes()
    f = tmp_path / "f.asc"
    f.write_bytes(text[: int(len(text) * cut)] + junk)
    try:
        recs = read(f, "asc")
    except GazekitError:
        return
    assert len(recs) == 1 and len(recs[0].samples) > 0


@_FUZZ
@given(cut=st.floats(0.0, 1.0), junk=st.binary(max_size=40))
def test_truncated_or_garbled_csv_gives_a_gazekit_error_or_recordings(
    tmp_path, data_file, cut, junk
):
    d = data_file("egd")
    text = (d / "eye_gaze.csv").read_bytes()
    (d / "eye_gaze.csv").write_bytes(text[: int(len(text) * cut)] + junk)
    try:
        recs = read(d, "egd")
    except GazekitError:
        return
    assert all(len(r.samples) > 0 for r in recs)


@_FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_never_escape_as_another_exception(tmp_path, data):
    f = tmp_path / "r.tsv"
    f.write_bytes(data)
    for fmt in ("asc", "tobii", "egd"):
        try:
            read(f, fmt)
        except GazekitError:
            pass


@pytest.mark.parametrize("fmt", ["egd", "reflacx", "asc"])
def test_simulated_files_convert_to_the_truth_recordings(tmp_path, fmt):
    tracker = "gazepoint" if fmt == "egd" else "eyelink"
    res = run("simulate", "-n", 2, "--image-size-px", 128, "--tracker", tracker, "--readers", 2,
              "--format", fmt, "-o", tmp_path / "raw")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = run("convert", tmp_path / "raw", "-o", tmp_path / "ds")
    assert out.exit_code == 0, out.output
    truth = read_frame(tmp_path / "raw" / "truth" / "fixations.parquet", "truth_fixations")
    recs = read_frame(tmp_path / "ds" / "recordings.parquet", "recordings")
    assert sorted(recs["recording_id"]) == sorted(truth["recording_id"].unique())
    assert (tmp_path / "ds" / "images").is_dir() and (tmp_path / "ds" / "anatomy").is_dir()
