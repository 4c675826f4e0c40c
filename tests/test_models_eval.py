"""Evaluation protocol: baselines' outputs, split leakage and the intent heuristic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from gazekit.errors import InputError
from gazekit.models import FINDINGS, load_corpus
from gazekit.models.baselines import CentreBias, DensitySampler, nearest_region_scores
from gazekit.models.data import example_digest
from gazekit.models.evaluate import _test_examples, margins


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


def test_nearest_region_scores_are_one_inside_the_box_and_decay_outside(corpus):
    e = corpus.examples[0]
    h, w = corpus.image_shape[e.image_id]
    x = e.xy[0, 0] * w
    y = e.xy[0, 1] * h
    name = FINDINGS[0]
    box = pd.DataFrame(
        {"label": [name], "xmin": [x - 1], "xmax": [x + 1], "ymin": [y - 1], "ymax": [y + 1]}
    )
    s = nearest_region_scores(e, box, (h, w))
    assert s.shape == (len(e), len(FINDINGS))
    assert ((s >= 0) & (s <= 1)).all()
    assert s[0, 0] == pytest.approx(1.0)
    assert (s[:, 1:] == 0).all()


def test_no_findings_give_all_zero_scores(corpus):
    e = corpus.examples[0]
    assert not nearest_region_scores(e, None, corpus.image_shape[e.image_id]).any()


def test_test_recordings_sharing_an_image_with_training_are_refused(corpus):
    a, b = [e for e in corpus.examples if e.image_id == corpus.examples[0].image_id][:2]
    ck = {"split": {"train": [a.recording_id], "val": [], "test": [b.recording_id]}}
    with pytest.raises(InputError, match="share images"):
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


def test_margins_are_transformer_minus_baseline_absolute_and_relative():
    t = pd.DataFrame({"model": ["transformer", "gru"], "auroc": [0.9, 0.6]})
    m = margins(t, "transformer", ("auroc",))
    assert m["baseline"].tolist() == ["gru"]
    assert m["auroc"].iloc[0] == pytest.approx(0.3)
    assert m["auroc_rel"].iloc[0] == pytest.approx(0.5)
