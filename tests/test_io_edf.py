"""EyeLink EDF reader (runs where the optional ``edf`` extra, ``eyelinkio``, is installed).

No EDF file ships with gazekit: EDF is written only by SR Research's trackers and software,
and ``edf2asc`` (which would give the paired ASC file) is not on the package index. The
EDF recordings that ``eyelinkio`` ships for its own tests are used instead, and the reader
is checked against ``eyelinkio.read_edf`` (an independent walk of the same file) and
against the ASC reader through the lines both readers share.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gazekit.errors import InputError
from gazekit.io import detect_format, read

eyelinkio = pytest.importorskip("eyelinkio")

EDF_DIR = Path(eyelinkio.__file__).parent / "tests" / "data"
FILES = {
    "test_raw.edf": ("left", 1000.0),
    "test_raw_binocular.edf": ("both", 500.0),
}


@pytest.fixture(scope="module", params=sorted(FILES), ids=lambda n: n.removesuffix(".edf"))
def pair(request, tmp_path_factory):
    src = EDF_DIR / request.param
    if not src.is_file():
        pytest.skip(f"eyelinkio {eyelinkio.__version__} ships no {request.param}")
    dst = tmp_path_factory.mktemp("edf") / request.param
    dst.write_bytes(src.read_bytes())
    (rec,) = read(dst)
    return request.param, rec, eyelinkio.read_edf(str(dst))


def test_edf_is_detected_and_read_with_its_eyes_and_rate(pair):
    name, rec, _ = pair
    eye, rate = FILES[name]
    assert detect_format(Path(rec.source_file)) == "edf"
    assert rec.source_format == "edf" and rec.sampling_rate_hz == rate
    assert rec.extra["eyes"] == (["left", "right"] if eye == "both" else [eye])
    assert (rec.geometry.screen_w_px, rec.geometry.screen_h_px) == (1920.0, 1080.0)
    assert rec.samples["t_ms"].iloc[0] == 0.0 and rec.t0 > 0  # the tracker clock is kept


def test_samples_match_eyelinkio_to_the_stored_tenth_of_a_pixel(pair):
    name, rec, ref = pair
    fields = ref["info"]["sample_fields"]
    data = ref["samples"]
    assert len(rec.samples) == data.shape[1]
    eyes = ["left", "right"] if FILES[name][0] == "both" else [None]
    for eye in eyes:
        for ours, theirs in (("x", "xpos"), ("y", "ypos")):
            col = f"{ours}_{eye}_px" if eye else f"{ours}_px"
            ref_col = f"{theirs}_{eye}" if eye else theirs
            ref_v = data[fields.index(ref_col)]
            v = rec.samples[col].to_numpy()
            np.testing.assert_array_equal(np.isnan(v), np.isnan(ref_v))
            ok = ~np.isnan(v)
            assert np.abs(v[ok] - ref_v[ok]).max() <= 0.05 + 1e-6


def test_events_match_eyelinkio_in_count_and_sample_time(pair):
    _, rec, ref = pair
    rate = rec.sampling_rate_hz
    t = rec.samples["t_ms"].to_numpy()
    for ours, theirs in (("fixation", "fixations"), ("saccade", "saccades"), ("blink", "blinks")):
        ev = rec.events[rec.events["event"] == ours]
        r = ref["discrete"][theirs]
        assert len(ev) == len(r)
        # eyelinkio puts event times on its renumbered sample axis: index / rate
        idx = np.rint(np.sort(r["stime"]) * rate).astype(int)
        onset = np.sort(ev["onset_ms"].to_numpy())
        np.testing.assert_allclose(onset, t[np.clip(idx, 0, len(t) - 1)], atol=1e-9)
    assert (rec.events["source"] == "tracker").all() and (rec.events["method"] == "eyelink").all()


def test_saccade_amplitude_and_velocity_are_filled_as_edf2asc_prints_them(pair):
    _, rec, _ = pair
    sac = rec.events[rec.events["event"] == "saccade"]
    amp = sac["amplitude_deg"].to_numpy()
    assert np.isfinite(amp).mean() > 0.9 and (amp[np.isfinite(amp)] >= 0).all()
    np.testing.assert_array_equal(np.round(amp[np.isfinite(amp)], 2), amp[np.isfinite(amp)])
    assert (sac["peak_velocity_deg_s"].dropna() > 0).all()


def test_edf_and_asc_readers_share_the_header_and_event_lines(tmp_path):
    """The EDF reader's lines, written out as an ASC file, read back to the same recording."""
    from gazekit.io.edf import _table, _walk

    src = tmp_path / "test_raw.edf"
    src.write_bytes((EDF_DIR / "test_raw.edf").read_bytes())
    (rec,) = read(src)
    cols, header, lines = _walk(src)
    table = _table(cols)
    t = table.column("t").to_numpy()

    def fmt(v):
        return np.where(np.isnan(v), "   .", np.char.mod("%.1f", np.nan_to_num(v)))

    samples = np.char.add(
        np.char.add(np.char.add(t.astype(np.int64).astype(str), "\t"), fmt(table.column("x_LEFT").to_numpy())),
        np.char.add(np.char.add("\t", fmt(table.column("y_LEFT").to_numpy())), np.char.add("\t", np.char.mod("%.1f", table.column("p_LEFT").to_numpy()))),
    )  # fmt: skip
    # events go before the first sample after their end, as edf2asc writes them
    out = ["** CONVERTED FROM test_raw.edf", *header]
    ends = [int(ln.split()[3]) if ln.startswith("E") else int(ln.split()[1]) for ln in lines]
    pos = np.searchsorted(t, ends, side="right")
    k = 0
    for i, s in enumerate(samples):
        while k < len(lines) and pos[k] <= i:
            out.append(lines[k])
            k += 1
        out.append(s + "\t...")
    out += lines[k:]
    asc = tmp_path / "test_raw.asc"
    asc.write_text("\n".join(out) + "\n")
    (back,) = read(asc)
    for c in rec.samples.columns:
        np.testing.assert_array_equal(back.samples[c].to_numpy(), rec.samples[c].to_numpy(), c)
    assert back.geometry == rec.geometry and back.t0 == rec.t0
    a = rec.events.drop(columns=["recording_id"]).reset_index(drop=True)
    b = back.events.drop(columns=["recording_id"]).reset_index(drop=True)
    assert a.equals(b)


def test_a_file_that_is_not_edf_is_refused(tmp_path):
    f = tmp_path / "x.edf"
    f.write_text("not an edf file\n")
    with pytest.raises(InputError, match="not an EDF file"):
        read(f, "edf")


def test_truncated_edf_files_give_errors_not_crashes(tmp_path):
    """SR Research's library crashes on a cut preamble; the reader must refuse it first."""
    data = (EDF_DIR / "test_raw.edf").read_bytes()
    sizes = [100, 200, 262, 266, 269, 300, 4096, len(data) // 3]
    code = (
        "import sys\n"
        "from gazekit.io import read\n"
        "from gazekit.errors import GazekitError\n"
        "for f in sys.argv[1:]:\n"
        "    try:\n"
        "        read(f, 'edf')\n"
        "        print('RESULT read')\n"
        "    except GazekitError:\n"
        "        print('RESULT error')\n"
    )
    files = []
    for n in sizes:
        f = tmp_path / f"cut{n}.edf"
        f.write_bytes(data[:n])
        files.append(str(f))
    proc = subprocess.run(
        [sys.executable, "-c", code, *files], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    # (the EDF library prints its own complaints on stdout too)
    assert proc.stdout.count("RESULT ") == len(sizes)


def test_calibration_messages_reach_the_bids_sidecar(tmp_path):
    from gazekit.io import write

    src = tmp_path / "test_raw.edf"
    src.write_bytes((EDF_DIR / "test_raw.edf").read_bytes())
    (rec,) = read(src)
    # "!CAL CALIBRATION HV5 L LEFT GOOD" twice, then "!CAL VALIDATION ... ERROR 0.29 avg. 0.65 max"
    assert rec.extra["calibration"] == {
        "left": {"type": "HV5", "count": 2, "avg_error_deg": 0.29, "max_error_deg": 0.65}
    }
    write([rec], tmp_path / "bids", "bids")
    (side,) = (tmp_path / "bids").glob("sub-*/beh/*_physio.json")
    meta = json.loads(side.read_text())
    assert (meta["CalibrationType"], meta["CalibrationCount"]) == ("HV5", 2)
    assert (meta["AverageCalibrationError"], meta["MaximalCalibrationError"]) == (0.29, 0.65)
    (back,) = read(tmp_path / "bids")
    assert back.extra["calibration"] == rec.extra["calibration"]
