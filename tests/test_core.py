"""Package foundation: import weight, schemas, atomic Parquet, geometry, registry."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gazekit import schemas
from gazekit.errors import GazekitError, SchemaError
from gazekit.geometry import Geometry, letterbox
from gazekit.io import read_frame, read_metadata, write_table
from gazekit.registry import Registry


def test_import_is_light():
    code = (
        "import sys, gazekit, gazekit.schemas, gazekit.geometry, gazekit.io;"
        "bad=[m for m in ('torch','matplotlib','dask') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_schema_loads_and_is_versioned():
    for name in schemas.names():
        s = schemas.get(name)
        assert s.version.count(".") == 2
        assert len(set(s.names)) == len(s.names)
        for c in s.columns:
            assert c.description


def _samples(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t_ms": np.arange(n) * 2.0,
            "x_px": np.linspace(0, 1, n),
            "y_px": np.ones(n),
            "pupil": np.ones(n),
            "valid": True,
        }
    )


def test_parquet_round_trip_keeps_metadata(tmp_path):
    path = write_table(_samples(), tmp_path / "s.parquet", "samples", {"sampling_rate_hz": 500.0})
    df = read_frame(path, "samples")
    assert df["t_ms"].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    meta = read_metadata(path)
    assert meta["schema_version"] == schemas.get("samples").version
    assert meta["sampling_rate_hz"] == 500.0
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize(
    ("mutate", "column"),
    [
        pytest.param(lambda d: d.drop(columns="t_ms"), "t_ms", id="missing_required_column"),
        pytest.param(lambda d: d.assign(bogus=1), "bogus", id="unknown_column"),
        pytest.param(lambda d: d.assign(x_px=["a", "b", "c", "d", "e"]), "x_px", id="non_numeric"),
    ],
)
def test_schema_errors_name_the_column(tmp_path, mutate, column):
    with pytest.raises(SchemaError) as info:
        write_table(mutate(_samples()), tmp_path / "s.parquet", "samples")
    assert info.value.column == column
    assert not (tmp_path / "s.parquet").exists()


def test_failed_write_keeps_old_file(tmp_path):
    path = write_table(_samples(3), tmp_path / "s.parquet", "samples")
    with pytest.raises(SchemaError):
        write_table(_samples(3).drop(columns="valid"), path, "samples")
    assert len(read_frame(path)) == 3


def test_geometry_degrees_are_exact_per_sample():
    g = Geometry(
        frame="screen",
        screen_w_px=1000,
        screen_h_px=1000,
        screen_w_mm=500,
        screen_h_mm=500,
        viewing_distance_mm=500,
    )
    xd, _yd = g.to_degrees(np.array([500.0, 1000.0]), np.array([500.0, 500.0]))
    assert xd[0] == pytest.approx(0.0)
    assert xd[1] == pytest.approx(np.degrees(np.arctan(250 / 500)))
    dist = g.angular_distance(
        np.array([500.0]), np.array([500.0]), np.array([1000.0]), np.array([500.0])
    )
    assert dist[0] == pytest.approx(np.degrees(np.arctan(0.5)))


def test_geometry_image_frame_round_trip():
    left, top, w, h = letterbox(2000, 1000, 1920, 1080)
    g = Geometry(
        frame="image",
        image_w_px=2000,
        image_h_px=1000,
        image_left_px=left,
        image_top_px=top,
        image_disp_w_px=w,
        image_disp_h_px=h,
    )
    sx, sy = g.image_to_screen(np.array([0.0, 2000.0]), np.array([0.0, 1000.0]))
    assert sx.tolist() == [0.0, 1920.0]
    x, _y = g.screen_to_image(sx, sy)
    np.testing.assert_allclose(x, [0, 2000])


def test_geometry_without_distance_asks_for_it():
    with pytest.raises(GazekitError, match="viewing distance"):
        Geometry().to_degrees(np.zeros(1), np.zeros(1))


def test_registry_lists_known_names():
    r: Registry[int] = Registry("thing")
    r.add("a", 1)
    with pytest.raises(GazekitError, match="known: a"):
        r.get("b")
    with pytest.raises(GazekitError):
        r.add("a", 2)


def test_jsonable_handles_numpy():
    assert (
        json.dumps(schemas.jsonable({"a": np.float64("nan"), "b": np.arange(2)}))
        == '{"a": null, "b": [0, 1]}'
    )
