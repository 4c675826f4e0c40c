"""`gazekit heatmap` and `gazekit anatomy` on hand-built inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from gazekit.anatomy import Atlas
from gazekit.cli.main import cli
from gazekit.io.parquet import read_frame


def _inputs(tmp_path):
    import cv2

    img = (np.random.default_rng(0).random((80, 100)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "img.png"), img)
    m = np.zeros((2, 80, 100), bool)
    m[0, :, :50] = True
    m[1, :, 50:] = True
    Atlas(m, ("right_lung", "left_lung")).save(tmp_path / "img.npz")
    ev = pd.DataFrame(
        {
            "recording_id": ["r1"] * 3 + ["r2"] * 2,
            "event": ["fixation"] * 5,
            "x_px": [10.0, 20.0, 70.0, 80.0, 90.0],
            "y_px": [40.0, 40.0, 40.0, 20.0, 60.0],
            "onset_ms": [0.0, 300.0, 600.0, 0.0, 400.0],
            "duration_ms": [250.0, 250.0, 250.0, 350.0, 350.0],
        }
    )
    ev.to_parquet(tmp_path / "events.parquet")
    return tmp_path


def test_heatmap_command_writes_png_npz_and_region_stats(tmp_path):
    d = _inputs(tmp_path)
    out = d / "out"
    res = CliRunner().invoke(
        cli,
        ["heatmap", str(d / "events.parquet"), "--image", str(d / "img.png"), "--anatomy", str(d / "img.npz"),
         "--sigma-px", "4", "-o", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} >= {
        "r1.npz",
        "r1_heatmap.png",
        "r2_regions.png",
        "region_stats.parquet",
    }
    st = read_frame(out / "region_stats.parquet").set_index(["recording_id", "region"])
    assert st.loc[("r1", "right_lung"), "fixation_count"] == 2
    assert st.loc[("r2", "left_lung"), "dwell_share"] == 1.0


def test_heatmap_in_degrees_without_scale_is_a_clean_usage_error(tmp_path):
    d = _inputs(tmp_path)
    res = CliRunner().invoke(
        cli, ["heatmap", str(d / "events.parquet"), "--shape-px", "100x80", "-o", str(d / "o")]
    )
    assert res.exit_code != 0 and "px-per-deg" in res.output


def test_anatomy_command_lists_regions_and_converts_template(tmp_path):
    box = tmp_path / "chest_bounding_box.csv"
    box.write_text("xmin,ymin,xmax,ymax\n10,10,190,190\n")
    res = CliRunner().invoke(
        cli,
        [
            "anatomy",
            str(box),
            "--format",
            "template",
            "--shape-px",
            "200x200",
            "-o",
            str(tmp_path / "t.npz"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "right_upper_zone" in res.output and "parent=right_lung" in res.output
    assert Atlas.load(tmp_path / "t.npz").shape == (200, 200)


def test_heatmap_on_a_dataset_finds_image_atlas_and_geometry(tmp_path):
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import write_sessions

    ds = tmp_path / "ds"
    write_sessions(list(simulate_corpus(1, seed=2, n_readers=1, image_size=256)), ds, "parquet")
    res = CliRunner().invoke(
        cli, ["heatmap", str(ds / "events.parquet"), "-o", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    st = read_frame(tmp_path / "o" / "region_stats.parquet")
    assert st["image_id"].notna().all() and st["coverage_radius_px"].iloc[0] > 1
    assert len(st) == 17 and st["fixation_count"].sum() > 0
