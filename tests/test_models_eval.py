"""Evaluation protocol: baselines, the oracle, within-reading scores, bootstrap rows, leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from gazekit.errors import InputError
from gazekit.models import FINDINGS, load_corpus
from gazekit.models.baselines import (
    CentreBias,
    DensitySampler,
    RegionTimePrior,
    oracle_region_scores,
)
from gazekit.models.data import example_digest
from gazekit.models.evaluate import _test_examples, intent_rows, within_scores
from gazekit.models.report import ROW_COLUMNS, format_rows, macro_of_means, resample_weights


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import write_sessions

    out = tmp_path_factory.mktemp("eval") / "sim"
    write_sessions(simulate_corpus(4, seed=2, n_readers=2, image_size=128), out)
    return load_corpus(out, regime="radseq", image_size=32)


def test_samplers_give_positions_in_the_unit_square_and_positive_durations(corpus):
    rng = np.random.default_rng(0)
    for s in (CentreBias(corpus.examples), DensitySampler(corpus.examples)):
        for _ in range(20):
            xy, dur = s.sample(corpus.examples[0].image_id, rng)
            assert xy.ndim == 2 and xy.shape[1] == 2 and len(xy) == len(dur) >= 1
            assert ((xy >= 0) & (xy <= 1)).all() and (dur > 0).all()


def test_oracle_region_scores_are_one_inside_the_box_and_decay_outside(corpus):
    e = corpus.examples[0]
    h, w = corpus.image_shape[e.image_id]
    x = e.xy[0, 0] * w
    y = e.xy[0, 1] * h
    name = FINDINGS[0]
    box = pd.DataFrame(
        {"label": [name], "xmin": [x - 1], "xmax": [x + 1], "ymin": [y - 1], "ymax": [y + 1]}
    )
    s = oracle_region_scores(e, box, (h, w))
    assert s.shape == (len(e), len(FINDINGS))
    assert ((s >= 0) & (s <= 1)).all()
    assert s[0, 0] == pytest.approx(1.0)
    assert (s[:, 1:] == 0).all()


def test_no_findings_give_all_zero_scores(corpus):
    e = corpus.examples[0]
    assert not oracle_region_scores(e, None, corpus.image_shape[e.image_id]).any()


def test_test_recordings_sharing_an_image_with_training_are_refused(corpus):
    a, b = [e for e in corpus.examples if e.image_id == corpus.examples[0].image_id][:2]
    ck = {"split": {"train": [a.recording_id], "val": [], "test": [b.recording_id]}}
    with pytest.raises(InputError, match=r"held-out recording\(s\) share"):
        _test_examples(corpus, ck)


def test_disjoint_split_returns_only_test_recordings(corpus):
    images = sorted({e.image_id for e in corpus.examples})
    train = [e.recording_id for e in corpus.examples if e.image_id != images[-1]]
    test = [e.recording_id for e in corpus.examples if e.image_id == images[-1]]
    digests = {e.recording_id: example_digest(e) for e in corpus.examples}
    ck = {"split": {"train": train, "val": [], "test": test, "digests": digests}}
    assert sorted(e.recording_id for e in _test_examples(corpus, ck)) == sorted(test)


def test_other_data_under_the_training_recording_ids_is_refused(corpus):
    import dataclasses

    images = sorted({e.image_id for e in corpus.examples})
    train = [e.recording_id for e in corpus.examples if e.image_id != images[-1]]
    test = [e.recording_id for e in corpus.examples if e.image_id == images[-1]]
    digests = {e.recording_id: example_digest(e) for e in corpus.examples}
    ck = {"split": {"train": train, "val": [], "test": test, "digests": digests}}
    other = [
        dataclasses.replace(e, xy=e.xy[::-1].copy()) if e.recording_id in test else e
        for e in corpus.examples
    ]
    with pytest.raises(InputError, match="differ from the data the checkpoint was trained"):
        _test_examples(dataclasses.replace(corpus, examples=other), ck)


def test_checkpoint_without_a_data_fingerprint_is_refused(corpus):
    images = sorted({e.image_id for e in corpus.examples})
    train = [e.recording_id for e in corpus.examples if e.image_id != images[-1]]
    test = [e.recording_id for e in corpus.examples if e.image_id == images[-1]]
    with pytest.raises(InputError, match="no fingerprint"):
        _test_examples(corpus, {"split": {"train": train, "val": [], "test": test}})


def test_within_reading_scores_ignore_which_findings_the_image_has():
    """A score that is 1 for every fixation of a present finding is useless within a reading."""
    y = np.zeros((6, 2))
    y[:3, 0] = 1  # finding 0 aimed at by the first three fixations; finding 1 never
    image_level = np.tile([1.0, 0.0], (6, 1))
    au, ap = within_scores(y, image_level)
    assert au[0] == pytest.approx(0.5) and ap[0] == pytest.approx(0.5)
    assert np.isnan(au[1]) and np.isnan(ap[1])  # no positive: not scored
    perfect = np.column_stack([y[:, 0], np.zeros(6)])
    assert within_scores(y, perfect)[0][0] == 1.0


def test_bootstrap_over_images_keeps_readings_of_one_image_together():
    w = resample_weights(["a", "a", "b", "c"], n_boot=200, seed=0)
    assert w.shape == (200, 4)
    np.testing.assert_array_equal(w[:, 0], w[:, 1])
    np.testing.assert_array_equal(w.sum(1)[:, None] >= 0, True)
    assert (w[:, [0, 2, 3]].sum(1) == 3).all()  # three images drawn per resample
    point, boot = macro_of_means(np.array([[1.0, np.nan], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]), w)
    assert point == pytest.approx((0.5 + 1 / 3) / 2)
    assert np.nanmin(boot) >= 0 and np.nanmax(boot) <= 1


def test_intent_rows_have_intervals_that_contain_the_value_and_paired_differences(corpus):
    rng = np.random.default_rng(0)
    test = corpus.examples
    noisy = [e.intent + rng.normal(0, 0.3, e.intent.shape) for e in test]
    flat = [np.full(e.intent.shape, 0.5, np.float32) for e in test]
    rows = intent_rows(test, {"transformer": noisy, "constant": flat}, "radseq", n_boot=50)
    assert tuple(rows.columns) == ROW_COLUMNS
    plain = rows[~rows["metric"].str.startswith("delta_")]
    assert set(plain["model"]) == {"transformer", "constant"}
    ok = plain.dropna(subset=["ci_low"])
    assert ((ok["ci_low"] <= ok["value"] + 1e-9) & (ok["value"] <= ok["ci_high"] + 1e-9)).all()
    const = plain[(plain["model"] == "constant") & (plain["metric"] == "auroc_within")]
    assert const["value"].iloc[0] == pytest.approx(0.5)
    delta = rows[
        (rows["model"] == "transformer - constant") & (rows["metric"] == "delta_auroc_within")
    ]
    assert delta["value"].iloc[0] > 0 and delta["ci_low"].iloc[0] > 0
    assert "auroc_within" in format_rows(rows)


def test_region_time_prior_is_the_training_label_rate_of_each_cell(corpus):
    prior = RegionTimePrior(corpus.examples, alpha=1e-9)
    e = corpus.examples[0]
    s = prior.scores(e)
    assert s.shape == e.intent.shape and ((s >= 0) & (s <= 1)).all()
    r, b = prior._cells(e)
    same = [(ex, (ex_r == r[0]) & (ex_b == b[0]))
            for ex in corpus.examples for ex_r, ex_b in [prior._cells(ex)]]  # fmt: skip
    rate = np.concatenate([ex.intent[m] for ex, m in same]).mean(0)
    np.testing.assert_allclose(s[0], rate, atol=1e-6)


def test_density_baseline_log_density_integrates_to_one(corpus):
    d = DensitySampler(corpus.examples)
    g = (np.arange(64) + 0.5) / 64
    xy = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    assert np.exp(d.log_density(xy)).mean() == pytest.approx(1.0, rel=1e-6)
    c = CentreBias(corpus.examples)
    assert np.isfinite(c.log_density(xy)).all()
