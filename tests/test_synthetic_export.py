"""`gazekit simulate` files: dataset layout, anatomy npz contract, truth, byte-identical output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gazekit.anatomy.regions import REGIONS
from gazekit.cli.main import cli
from gazekit.io.parquet import read_frame, read_metadata


def _simulate(out: Path, *extra: str) -> None:
    args = ["simulate", "-n", "2", "--readers", "2", "--image-size-px", "128", "-o", str(out), *extra]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "out"
    _simulate(out, "--tracker", "eyelink", "--seed", "5")
    return out


def test_simulate_writes_the_dataset_layout_with_ground_truth(sim_dir):
    names = {p.relative_to(sim_dir).as_posix() for p in sim_dir.rglob("*") if p.is_file()}
    assert {
        "manifest.json",
        "recordings.parquet",
        "events.parquet",
        "transcripts.parquet",
        "findings.parquet",
        "truth/fixations.parquet",
        "images/syn5-img0000.png",
        "anatomy/syn5-img0001.npz",
    } <= names
    assert len([n for n in names if n.startswith("samples/")]) == 4
    assert not [n for n in names if n.endswith(".tmp")]


def test_samples_carry_true_labels_and_image_frame_provenance(sim_dir):
    path = sim_dir / "samples" / "syn5-img0000-R1.parquet"
    df = read_frame(path, "samples")
    meta = read_metadata(path)
    assert set(df["label"].dropna()) <= {"fixation", "saccade", "pso", "blink"}
    assert meta["frame"] == "image" and meta["sampling_rate_hz"] == 1000.0
    assert meta["image_w_px"] == 128 and meta["viewing_distance_mm"] == 700
    rec = read_frame(sim_dir / "recordings.parquet", "recordings")
    assert len(rec) == 4 and set(rec["corpus"]) == {"synthetic"}


def test_anatomy_npz_holds_bool_masks_and_region_names(sim_dir):
    with np.load(sim_dir / "anatomy" / "syn5-img0000.npz") as z:
        masks, names = z["masks"], z["names"]
    assert masks.dtype == bool and masks.shape == (len(REGIONS), 128, 128)
    assert tuple(names) == REGIONS


def test_truth_table_reads_back_with_lists(sim_dir):
    t = read_frame(sim_dir / "truth" / "fixations.parquet", "truth_fixations")
    assert t["recording_id"].nunique() == 4
    assert all(isinstance(list(v), list) for v in t["intended_findings"])


def test_same_seed_writes_byte_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _simulate(a, "--seed", "9", "--strategy", "hybrid")
    _simulate(b, "--seed", "9", "--strategy", "hybrid")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_tracker_formats_need_the_writer_or_fail_cleanly(tmp_path):
    res = CliRunner().invoke(
        cli,
        [
            "simulate",
            "-n",
            "1",
            "--image-size-px",
            "128",
            "-o",
            str(tmp_path / "o"),
            "--format",
            "asc",
        ],
    )
    if importlib.util.find_spec("gazekit.io.writers") is None:
        assert res.exit_code != 0 and "gazekit.io.writers" in res.output
    else:
        assert res.exit_code == 0, res.output
        assert (tmp_path / "o" / "truth" / "fixations.parquet").exists()


def test_plot_scanpath_draws_one_numbered_circle_per_fixation():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gazekit.plotting.scanpath import plot_scanpath
    from gazekit.synthetic import simulate_session

    s = simulate_session(2, strategy="seq", image_size=128)
    fx = s.truth.iloc[:15]
    ax = plot_scanpath(s.image, fx, color_by="phase")
    assert len(ax.collections[0].get_paths()) == 15
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(1, 16)]
    assert ax.get_legend() is not None
    plt.close(ax.figure)


def test_simulated_dataset_opens_as_a_flat_gazekit_dataset(sim_dir):
    dataset = pytest.importorskip("gazekit.dataset")
    ds = dataset.open_dataset(sim_dir)
    assert len(ds.recordings()) == 4
    assert set(ds.manifest()["recording_id"]) == set(ds.recordings()["recording_id"])


def test_plot_scanpath_colours_by_a_numeric_column_without_an_image():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from gazekit.plotting.scanpath import plot_scanpath

    fx = pd.DataFrame(
        {
            "x_px": [10.0, 50.0, np.nan, 80.0],
            "y_px": [10.0, 40.0, 5.0, 90.0],
            "duration_ms": [100.0, 400.0, 200.0, 250.0],
        }
    )
    ax = plot_scanpath(None, fx, color_by="duration_ms", numbered=False)
    assert len(ax.collections[0].get_paths()) == 3  # the NaN fixation is left out
    assert ax.get_legend() is None and not ax.texts
    plt.close(ax.figure)
