"""Intent classification metrics against hand-computed scikit-learn-formula values."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gazekit.errors import InputError
from gazekit.metrics import classification as cm


def test_auroc_counts_pairwise_orderings_with_ties_as_half():
    # positives .35, .8 vs negatives .1, .4: 3 of 4 pairs ordered -> sklearn roc_auc_score 0.75
    assert cm.auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert cm.auroc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(cm.auroc([1, 1], [0.2, 0.3]))


def test_average_precision_matches_sklearn_docstring_example():
    # sklearn average_precision_score example: 0.8333...
    assert cm.average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(5 / 6)
    # tied scores form one threshold: P = 1/2 at R = 1
    assert cm.average_precision([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert math.isnan(cm.average_precision([0, 0], [0.2, 0.3]))


Y = np.array([[1, 0, 0], [0, 0, 1], [1, 0, 1]])
S = np.array([[0.9, 0.2, 0.1], [0.3, 0.6, 0.7], [0.4, 0.1, 0.8]])


def test_multilabel_report_per_class_macro_micro_hand_computed(caplog):
    with caplog.at_level(logging.INFO, logger="gazekit.metrics.classification"):
        rep = cm.multilabel_report(Y, S, classes=["nodule", "effusion", "cardiomegaly"])
    pc = rep["per_class"]
    # nodule: pred [1,0,0] vs true [1,0,1] -> P 1, R 1/2, F1 2/3
    assert pc.loc["nodule", ["precision", "recall", "f1"]].tolist() == pytest.approx(
        [1.0, 0.5, 2 / 3]
    )
    assert pc.loc["nodule", "accuracy"] == pytest.approx(2 / 3)
    # effusion has no positives: NaN, excluded from macro, logged
    assert (
        pc.loc["effusion", ["auroc", "average_precision", "precision", "recall", "f1"]].isna().all()
    )
    assert rep["excluded"] == ["effusion"]
    assert "effusion" in caplog.text
    assert rep["macro"]["f1"] == pytest.approx((2 / 3 + 1.0) / 2)
    assert rep["macro"]["recall"] == pytest.approx(0.75)
    # micro: tp 3, fp 1 (effusion row 2), fn 1 -> P = R = F1 = 3/4
    assert [rep["micro"][k] for k in ("precision", "recall", "f1")] == pytest.approx(
        [0.75, 0.75, 0.75]
    )
    # micro AUROC over 9 cells: positives .9,.7,.4,.8 vs 5 negatives, 19 of 20 pairs ordered... by hand:
    pos, neg = [0.9, 0.7, 0.4, 0.8], [0.2, 0.1, 0.3, 0.6, 0.1]
    pairs = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    assert rep["micro"]["auroc"] == pytest.approx(pairs / 20)
    assert rep["exact_match_accuracy"] == pytest.approx(1 / 3)  # only row 2 fully right
    assert rep["label_accuracy"] == pytest.approx(7 / 9)


def test_threshold_is_inclusive_and_zero_predictions_give_zero_precision():
    rep = cm.multilabel_report([[1], [0]], [[0.5], [0.2]])
    assert rep["per_class"]["precision"].iloc[0] == 1.0
    rep = cm.multilabel_report([[1], [0]], [[0.4], [0.2]])
    assert rep["per_class"][["precision", "recall", "f1"]].iloc[0].tolist() == [0.0, 0.0, 0.0]


def test_bad_inputs_raise_input_error():
    with pytest.raises(InputError, match="0 or 1"):
        cm.multilabel_report([[2]], [[0.1]])
    with pytest.raises(InputError, match="shape"):
        cm.multilabel_report([[1, 0]], [[0.1]])
    with pytest.raises(InputError, match="non-finite"):
        cm.auroc([0, 1], [np.nan, 0.1])


def test_cohen_kappa_hand_computed():
    # po = 3/4, pe = .5*.25 + .5*.75 = .5 -> 0.5
    assert cm.cohen_kappa([0, 1, 0, 1], [0, 1, 1, 1]) == pytest.approx(0.5)
    assert cm.cohen_kappa(["a", "b"], ["a", "b"]) == 1.0
    assert cm.cohen_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)


@settings(max_examples=50, deadline=None)
@given(
    t=arrays(np.int64, st.integers(2, 30), elements=st.integers(0, 1)),
    s=st.integers(0, 2**32 - 1),
)
def test_auroc_equals_pairwise_definition(t, s):
    score = np.round(np.random.default_rng(s).uniform(size=t.size), 1)
    pos, neg = score[t == 1], score[t == 0]
    got = cm.auroc(t, score)
    if pos.size == 0 or neg.size == 0:
        assert math.isnan(got)
        return
    want = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (
        pos.size * neg.size
    )
    assert got == pytest.approx(want)
    assert 0.0 <= cm.average_precision(t, score) <= 1.0


def test_registry_names():
    assert {"auroc", "average_precision", "cohen_kappa"} <= set(cm.METRICS.names())
