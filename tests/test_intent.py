"""Intent labellers: hand-built cases for each rule, invariants, Parquet round trips."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.intent import (
    GAZEINTENT_FINDINGS,
    IntentParams,
    IntentWarning,
    inside_regions,
    label_dataset,
    label_fixations,
    labellers,
    phrases_from_words,
    summarize,
    to_multihot,
)
from gazekit.io.parquet import read_frame, write_table


def fixations(rows):
    """rows: (onset_ms, x, y); 200 ms fixations."""
    return pd.DataFrame(
        {
            "recording_id": "r1",
            "event": "fixation",
            "onset_ms": [float(r[0]) for r in rows],
            "offset_ms": [float(r[0]) + 200.0 for r in rows],
            "x_px": [float(r[1]) for r in rows],
            "y_px": [float(r[2]) for r in rows],
        }
    )


def transcript(rows):
    return pd.DataFrame(
        {
            "recording_id": "r1",
            "level": "phrase",
            "text": [r[0] for r in rows],
            "start_ms": [float(r[1]) for r in rows],
            "end_ms": [float(r[1]) + 800.0 for r in rows],
        }
    )


def findings(rows):
    return pd.DataFrame(
        {
            "recording_id": "r1",
            "finding_id": np.arange(len(rows), dtype=np.int64),
            "label": [r[0] for r in rows],
            "shape": [r[1] for r in rows],
            "xmin": [float(r[2][0]) for r in rows],
            "ymin": [float(r[2][1]) for r in rows],
            "xmax": [float(r[2][2]) for r in rows],
            "ymax": [float(r[2][3]) for r in rows],
            "certainty": np.nan,
        }
    )


NOMARGIN = IntentParams(margin_px=0.0)
HEART = ("cardiomegaly", "box", (100, 100, 200, 200))
NODULE = ("Lung nodule or mass", "ellipse", (300, 100, 400, 200))  # REFLACX label


def test_radseq_subsequence_is_the_search_ending_with_the_dwell_on_the_finding_before_report():
    fx = fixations(
        [(0, 500, 500), (500, 600, 600), (1000, 150, 150), (1300, 150, 150), (1600, 500, 500),
         (2000, 150, 150)]
    )  # fmt: skip
    tr = transcript([("The heart is enlarged.", 1900)])
    out = label_fixations(fx, tr, findings([HEART]), "radseq", params=NOMARGIN)
    assert out["labels"].tolist() == [["cardiomegaly"]] * 4 + [[], []]
    assert out["target"].tolist()[:4] == ["cardiomegaly"] * 4
    assert out["target"].iloc[4:].isna().all()  # after the dwell, and after the report


def test_radseq_find_outside_the_lag_window_gives_no_subsequence():
    fx = fixations([(0, 150, 150), (1000, 500, 500)])
    tr = transcript([("Cardiomegaly.", 6000)])
    out = label_fixations(fx, tr, findings([HEART]), "radseq", params=NOMARGIN)
    assert out["labels"].tolist() == [[], []]


def test_radseq_fixation_outside_every_region_is_unlabelled_but_margin_degrees_can_reach_it():
    fx = fixations([(0, 210, 150)])
    tr = transcript([("Cardiomegaly.", 500)])
    f = findings([HEART])
    assert label_fixations(fx, tr, f, "radseq", params=NOMARGIN)["labels"].tolist() == [[]]
    geom = Geometry(
        frame="screen",
        screen_w_px=1920,
        screen_h_px=1080,
        screen_w_mm=531,
        screen_h_mm=298,
        viewing_distance_mm=700,
    )
    assert geom.px_per_deg() > 10  # 1 deg margin reaches 10 px outside the box
    out = label_fixations(fx, tr, f, "radseq", geometry=geom, params=IntentParams(margin_deg=1.0))
    assert out["labels"].tolist() == [["cardiomegaly"]]


def test_radseq_overlapping_findings_each_fixation_goes_to_one_subsequence_in_report_order():
    fx = fixations([(1000, 150, 150), (3900, 150, 150)])
    both = findings([HEART, ("pleural_effusion", "box", (120, 120, 220, 220))])
    tr = transcript([("Cardiomegaly.", 1200), ("Small pleural effusion.", 4000)])
    out = label_fixations(fx, tr, both, "radseq", params=NOMARGIN)
    assert out["labels"].tolist() == [["cardiomegaly"], ["pleural_effusion"]]


def test_radseq_finding_never_dictated_gets_no_subsequence_but_radexplore_keeps_it():
    fx = fixations([(0, 350, 150), (400, 150, 150), (1000, 150, 150)])
    tr = transcript([("Cardiomegaly.", 800)])
    f = findings([HEART, NODULE])
    seq = label_fixations(fx, tr, f, "radseq", params=NOMARGIN)
    assert seq["labels"].tolist() == [["cardiomegaly"], ["cardiomegaly"], []]
    exp = label_fixations(fx, tr, f, "radexplore", params=NOMARGIN)
    both = ["lung_lesion", "cardiomegaly"]
    assert exp["labels"].tolist() == [both, both, ["lung_lesion"]]
    assert exp["target"].isna().all()


def test_radexplore_each_finding_is_a_target_until_reported_nested_prefixes():
    fx = fixations([(i * 1000, 500, 500) for i in range(5)])
    tr = transcript([("Cardiomegaly.", 1500), ("Nodule in the right upper zone.", 3500)])
    out = label_fixations(fx, tr, findings([HEART, NODULE]), "radexplore", params=NOMARGIN)
    assert out["labels"].tolist() == [
        ["lung_lesion", "cardiomegaly"],
        ["lung_lesion", "cardiomegaly"],
        ["lung_lesion"],
        ["lung_lesion"],
        [],
    ]
    assert out["phase"].iloc[:4].tolist() == ["explore"] * 4 and pd.isna(out["phase"].iloc[4])


def test_radseq_subsequence_is_capped_at_max_fixations_ending_on_the_dwell():
    fx = fixations([(i * 250, 150 if i >= 7 else 500, 150) for i in range(10)])
    tr = transcript([("Cardiomegaly.", 2400)])
    p = IntentParams(margin_px=0, max_seq_fixations=5)
    out = label_fixations(fx, tr, findings([HEART]), "radseq", params=p)
    assert [i for i, v in enumerate(out["labels"]) if v] == [5, 6, 7, 8, 9]


def test_ruled_out_finding_without_region_gets_no_subsequence():
    fx = fixations([(0, 150, 150), (1000, 450, 450)])
    tr = transcript([("No pneumothorax.", 1500)])
    out = label_fixations(fx, tr, findings([HEART]), "radseq", params=NOMARGIN)
    assert out["labels"].tolist() == [[], []]


def test_negated_mention_does_not_count_as_dictation():
    fx = fixations([(0, 150, 150)])
    tr = transcript([("No cardiomegaly.", 300)])
    out = label_fixations(fx, tr, findings([HEART]), "radseq", params=NOMARGIN)
    assert out["labels"].tolist() == [[]]


def test_empty_transcript_warns_and_labels_nothing_in_radseq():
    fx = fixations([(0, 150, 150)])
    empty = transcript([])
    with pytest.warns(IntentWarning, match="no transcript"):
        out = label_fixations(fx, empty, findings([HEART]), "radseq")
    assert out["labels"].tolist() == [[]]


def test_radhybrid_scan_phase_is_explore_then_seq():
    fx = fixations([(0, 350, 150), (1000, 150, 150), (4000, 150, 150), (5000, 350, 350)])
    tr = transcript([("Cardiomegaly.", 4500)])
    out = label_fixations(
        fx, tr, findings([HEART, NODULE]), "radhybrid", params=IntentParams(margin_px=0, scan_s=2.0)
    )
    assert out["phase"].tolist()[:3] == ["explore", "explore", "seq"]
    assert out["labels"].tolist() == [
        ["lung_lesion", "cardiomegaly"],
        ["lung_lesion", "cardiomegaly"],
        ["cardiomegaly"],
        [],
    ]


def test_word_level_transcript_is_grouped_into_phrases():
    words = pd.DataFrame(
        {
            "recording_id": "r1",
            "level": "word",
            "text": ["Heart", "enlarged.", "No", "effusion"],
            "start_ms": [0.0, 300.0, 700.0, 900.0],
            "end_ms": [250.0, 600.0, 850.0, 1200.0],
        }
    )
    ph = phrases_from_words(words)
    assert ph["text"].tolist() == ["Heart enlarged.", "No effusion"]
    assert ph["start_ms"].tolist() == [0.0, 700.0]


def test_ellipse_excludes_box_corner():
    f = findings([NODULE])
    got = inside_regions(np.array([301.0, 350.0]), np.array([101.0, 150.0]), f, 0.0)
    assert got[:, 0].tolist() == [False, True]


@pytest.mark.parametrize("regime", ["radseq", "radexplore", "radhybrid"])
def test_invariants_every_fixation_one_row_labels_in_vocabulary(regime):
    rng = np.random.default_rng(0)
    fx = fixations([(i * 230, *rng.uniform(0, 500, 2)) for i in range(60)])
    tr = transcript([("Cardiomegaly.", 3000), ("A nodule.", 9000)])
    out = label_fixations(fx, tr, findings([HEART, NODULE]), regime)
    assert len(out) == 60
    assert out["fixation_index"].tolist() == list(range(60))
    assert {lab for v in out["labels"] for lab in v} <= set(GAZEINTENT_FINDINGS)
    hot = to_multihot(out)
    assert hot.shape == (60, 13)
    assert hot.sum() == sum(len(v) for v in out["labels"])


def test_parquet_round_trip(tmp_path):
    fx = fixations([(0, 150, 150), (500, 700, 700)])
    out = label_fixations(fx, transcript([("Cardiomegaly.", 300)]), findings([HEART]), "radseq")
    write_table(out, tmp_path / "intent_labels.parquet", "intent_labels")
    back = read_frame(tmp_path / "intent_labels.parquet", "intent_labels")
    assert [list(v) for v in back["labels"]] == [list(v) for v in out["labels"]]
    np.testing.assert_array_equal(to_multihot(back), to_multihot(out))


def test_unknown_finding_label_is_an_input_error():
    with pytest.raises(InputError, match="unknown finding label 'Heart blob'"):
        label_fixations(
            fixations([(0, 1, 1)]),
            None,
            findings([("Heart blob", "box", (0, 0, 1, 1))]),
            "radexplore",
        )


def test_finding_outside_image_is_an_error_and_partly_outside_warns():
    geom = Geometry(frame="image", image_w_px=500, image_h_px=500)
    fx = fixations([(0, 1, 1)])
    with pytest.raises(InputError, match="outside"):
        label_fixations(
            fx,
            None,
            findings([("cardiomegaly", "box", (600, 600, 700, 700))]),
            "radexplore",
            geometry=geom,
        )
    with pytest.warns(IntentWarning, match="extend past"):
        label_fixations(
            fx,
            None,
            findings([("cardiomegaly", "box", (450, 450, 550, 550))]),
            "radexplore",
            geometry=geom,
        )


def test_transcript_on_another_clock_is_an_error_and_slightly_outside_warns():
    fx = fixations([(0, 150, 150), (1000, 150, 150)])
    with pytest.raises(InputError, match="different clocks"):
        label_fixations(fx, transcript([("Cardiomegaly.", 1e9)]), findings([HEART]), "radseq")
    with pytest.warns(IntentWarning, match="after the last"):
        label_fixations(fx, transcript([("Cardiomegaly.", 20000)]), findings([HEART]), "radseq")


def test_to_multihot_rejects_labels_outside_vocabulary():
    df = pd.DataFrame({"labels": [["cardiomegaly"], ["martian"]]})
    with pytest.raises(InputError, match="martian"):
        to_multihot(df)


def test_registry_accepts_user_labeller():
    name = "test_everything_cardio"

    def everything(fix, phrases, regions, *, vocabulary, margin, params, recording_id):
        out = labellers.get("radexplore")(
            fix,
            phrases,
            regions,
            vocabulary=vocabulary,
            margin=margin,
            params=params,
            recording_id=recording_id,
        )
        out["regime"] = name
        return out

    if name not in labellers:
        labellers.add(name, everything)
    out = label_fixations(fixations([(0, 1, 1)]), None, findings([HEART]), name)
    assert out["regime"].tolist() == [name]


def test_summarize_counts_and_dwell():
    df = pd.DataFrame(
        {"onset_ms": [0.0, 200.0], "offset_ms": [100.0, 500.0], "labels": [["cardiomegaly"], []]}
    )
    s = summarize(df)
    assert s["labelled_fraction"] == 0.5
    assert s["label_counts"] == {"cardiomegaly": 1}
    assert s["dwell_ms"] == {"cardiomegaly": 100.0}


def test_dataset_and_cli_on_synthetic_export(tmp_path):
    synthetic = pytest.importorskip("gazekit.synthetic")
    from gazekit.cli.main import cli
    from gazekit.synthetic.export import write_sessions

    s = synthetic.simulate_session(seed=3, strategy="seq", image_size=256, n_findings=2)
    ds = tmp_path / "ds"
    write_sessions([s], ds)
    df = label_dataset(ds, "radseq", source="tracker")
    assert len(df) == (s.recording.events["event"] == "fixation").sum()
    res = CliRunner().invoke(
        cli, ["intent", str(ds), "--regime", "radexplore", "--source", "tracker"]
    )
    assert res.exit_code == 0, res.output
    assert (ds / "intent_labels.parquet").is_file()
    assert "labelled:" in res.output


@settings(max_examples=40, deadline=None)
@given(
    xy=st.lists(st.tuples(st.floats(-50, 600), st.floats(-50, 600)), min_size=0, max_size=30),
    t_dict=st.floats(0, 8000),
    regime=st.sampled_from(["radseq", "radexplore", "radhybrid"]),
)
def test_property_one_row_per_fixation_and_vocabulary_labels(xy, t_dict, regime):
    fx = fixations([(i * 250, x, y) for i, (x, y) in enumerate(xy)])
    tr = transcript([("Cardiomegaly and a nodule.", t_dict)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntentWarning)
        out = label_fixations(fx, tr, findings([HEART, NODULE]), regime)
    assert len(out) == len(xy)
    assert {lab for v in out["labels"] for lab in v} <= {"cardiomegaly", "lung_lesion"}
    seq = out["phase"] == "seq"
    assert all(len(v) == 1 for v in out.loc[seq.fillna(False), "labels"])
