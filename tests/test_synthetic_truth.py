"""The simulator's intent truth follows the labellers' definitions, and they agree on it."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gazekit.intent import IntentWarning, label_fixations
from gazekit.metrics.classification import cohen_kappa
from gazekit.synthetic import simulate_session
from gazekit.synthetic.reader import MAX_PER_ITEM
from gazekit.synthetic.truth import intent_truth, report_times


@pytest.fixture(scope="module")
def sessions():
    return {s: [simulate_session(seed=k, strategy=s, image_size=256, n_findings=2)
                for k in range(2)] for s in ("seq", "explore", "hybrid")}  # fmt: skip


def _reported(s):
    t = report_times(s.recording.transcript, [f.label for f in s.findings])
    return {f: v for f, v in t.items() if math.isfinite(v)}


def test_explore_truth_gives_each_finding_the_prefix_before_its_report(sessions):
    for s in sessions["explore"]:
        truth = s.intent_truth()
        onset = s.truth["onset_ms"].to_numpy()
        explore = s.truth["phase"].isin(["scan", "explore", "return"]).to_numpy()
        for f, t in report_times(s.recording.transcript, [g.label for g in s.findings]).items():
            has = np.array([f in v for v in truth])
            np.testing.assert_array_equal(has, explore & (onset < t))


def test_search_truth_is_at_most_max_seq_aimed_fixations_before_the_report(sessions):
    for s in sessions["seq"] + sessions["hybrid"]:
        truth = s.intent_truth()
        reported = _reported(s)
        present = {f.label for f in s.findings}
        search = s.truth["phase"].isin(["search", "verify"]).to_numpy()
        for f in {f for v in truth for f in v}:
            assert f in present
        for f, t in reported.items():
            idx = [i for i, v in enumerate(truth) if f in v and search[i]]
            assert len(idx) <= MAX_PER_ITEM
            for i in idx:
                row = s.truth.iloc[i]
                assert list(row.intended_findings) == [f] and row.onset_ms < t


def test_seq_truth_has_no_target_for_absent_checklist_items(sessions):
    for s in sessions["seq"]:
        present = {f.label for f in s.findings}
        for aim, labels in zip(s.truth["intended_findings"], s.intent_truth(), strict=True):
            if len(aim) == 1 and aim[0] not in present:
                assert labels == []


def test_unknown_strategy_is_refused(sessions):
    s = sessions["seq"][0]
    with pytest.raises(ValueError, match="strategy"):
        intent_truth(s.truth, s.recording.transcript, [], "browse")


@pytest.mark.parametrize(
    ("strategy", "regime", "floor"),
    [
        pytest.param("explore", "radexplore", 0.9, id="radexplore_recovers_the_nested_prefixes"),
        pytest.param("hybrid", "radhybrid", 0.6, id="radhybrid_recovers_scan_and_searches"),
        pytest.param("seq", "radseq", 0.4, id="radseq_recovers_the_searches_that_end_on_a_find"),
    ],
)
def test_labeller_agrees_with_truth_on_recoverable_findings(sessions, strategy, regime, floor):
    t_all, p_all = [], []
    for s in sessions[strategy]:
        rec = s.recording
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntentWarning)
            lab = label_fixations(s.truth, rec.transcript, rec.findings, regime,
                                  geometry=rec.geometry)  # fmt: skip
        truth = s.intent_truth()
        for f in _reported(s):
            t_all += [f in v for v in truth]
            p_all += [f in v for v in lab["labels"]]
    assert sum(t_all) > 0
    assert cohen_kappa(t_all, p_all) >= floor
