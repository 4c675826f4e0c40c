"""Agreement metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazekit.errors import InputError
from gazekit.metrics.agreement import cohen_kappa, match_events, per_class_kappa


def test_kappa_hand_computed_two_by_two():
    # confusion [[20, 5], [10, 15]] / 50: po = 0.7, pe = 0.5*0.6 + 0.5*0.4 = 0.5 -> 0.4
    a = [0] * 25 + [1] * 25
    b = [0] * 20 + [1] * 5 + [0] * 10 + [1] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_labels_restricts_to_samples_both_raters_labelled():
    a = [1, 1, 2, 2, 9]
    b = [1, 1, 2, 2, 1]
    assert cohen_kappa(a, b, labels=[1, 2]) == pytest.approx(1.0)
    assert cohen_kappa(a, b) < 1.0


def test_per_class_kappa_is_one_vs_rest():
    a = np.array([1, 1, 2, 2, 3, 3])
    b = np.array([1, 2, 2, 2, 3, 1])
    # class 1 binary: a=[1,1,0,0,0,0], b=[1,0,0,0,0,1]: po=4/6, pe=(2/6)^2+(4/6)^2=5/9 -> 0.25
    assert per_class_kappa(a, b, 1) == pytest.approx(0.25)
    assert math.isnan(per_class_kappa(a, b, 7))


def test_identical_single_label_is_perfect_and_empty_is_nan():
    assert cohen_kappa([4, 4, 4], [4, 4, 4]) == 1.0
    assert math.isnan(cohen_kappa([], []))


def test_length_mismatch_raises_input_error():
    with pytest.raises(InputError, match="lengths differ"):
        cohen_kappa([1, 2], [1])


def test_event_matching_counts_overlapping_runs():
    a = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    b = np.array([0, 0, 1, 1, 0, 0, 0, 1, 1, 0])
    m = match_events(a, b, 1)
    assert (m["n_a"], m["n_b"]) == (2, 2)
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)


def test_kappa_matches_scikit_learn_when_available():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 500)
    b = np.where(rng.random(500) < 0.7, a, rng.integers(0, 4, 500))
    assert cohen_kappa(a, b) == pytest.approx(sk.cohen_kappa_score(a, b))
