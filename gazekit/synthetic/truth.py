"""The synthetic reader's true diagnostic intention, under RadGazeIntent's definitions.

The reader model (:mod:`gazekit.synthetic.reader`) records what each fixation was
*aimed* at (``intended_findings`` of the truth table: a checklist item, every finding of
the image during a scan, or nothing during a review). The intent labels follow the
definitions of :mod:`gazekit.intent.labellers`, applied here to that knowledge instead
of to observable data, so that labeller and truth can be compared fixation by fixation:

* exploration (the ``scan``, ``explore`` and ``return`` phases of the explore strategy,
  the ``scan`` phase of the hybrid one): a present finding is a target from the start of
  the reading until it is reported ("uncertainty filtering": nested prefixes); a finding
  the reader never reports stays a target to the end;
* systematic search (the ``search`` and ``verify`` phases of the seq and hybrid
  strategies): a present, reported finding is the target of the fixations the reader
  aimed at it — the search of its checklist item and the verification dwell on it —
  that start before its report, at most ``max_seq`` (the last ones; the reader model
  aims at most :data:`~gazekit.synthetic.reader.MAX_PER_ITEM` fixations at one item);
* searches for checklist items that are absent, review fixations and the single
  orienting fixation of a seq reading have no target: no label rule can recover a
  search for something that is not there, so the truth does not ask for it.

A finding's report time is the start of the first transcript phrase that mentions it
(:func:`gazekit.vocab.mentioned_findings`, negations skipped), as in the labellers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from gazekit import vocab

#: Phases labelled with the exploration definition, per strategy.
EXPLORE_PHASES: dict[str, frozenset[str]] = {
    "explore": frozenset({"scan", "explore", "return"}),
    "hybrid": frozenset({"scan"}),
    "seq": frozenset(),
}
#: Phases labelled with the search definition.
SEARCH_PHASES = frozenset({"search", "verify"})


def report_times(transcript: pd.DataFrame | None, labels: Iterable[str]) -> dict[str, float]:
    """Report time (ms) of each finding label; ``inf`` when never reported.

    Parameters
    ----------
    transcript : DataFrame or None
        Phrase-level ``transcripts`` rows.
    labels : iterable of str
        GazeIntent names of the image's findings.

    Returns
    -------
    dict of str to float
    """
    out = dict.fromkeys(labels, math.inf)
    if transcript is None or transcript.empty:
        return out
    t = transcript.sort_values("start_ms", kind="stable")
    for text, start in zip(t["text"], t["start_ms"], strict=True):
        for f in vocab.mentioned_findings(str(text)):
            if f in out and not math.isfinite(out[f]):
                out[f] = float(start)
    return out


def intent_truth(
    truth: pd.DataFrame,
    transcript: pd.DataFrame | None,
    finding_labels: Sequence[str],
    strategy: str,
    max_seq: int = 7,
) -> list[list[str]]:
    """True intent labels of each truth fixation (see the module docstring).

    Parameters
    ----------
    truth : DataFrame
        One recording's ``truth_fixations`` rows in reading order (``onset_ms``,
        ``phase``, ``intended_findings``).
    transcript : DataFrame or None
        The recording's phrase-level transcript.
    finding_labels : sequence of str
        GazeIntent names of the findings on the image.
    strategy : {"seq", "explore", "hybrid"}
    max_seq : int
        Longest search subsequence (fixations), as ``IntentParams.max_seq_fixations``.

    Returns
    -------
    list of list of str
        One (sorted) label list per truth row.
    """
    if strategy not in EXPLORE_PHASES:
        raise ValueError(f"strategy must be one of {tuple(EXPLORE_PHASES)}, got {strategy!r}")
    present = sorted(set(finding_labels))
    t_rep = report_times(transcript, present)
    onset = truth["onset_ms"].to_numpy(float)
    phase = truth["phase"].astype(str).to_numpy()
    aims = [tuple(v) for v in truth["intended_findings"]]
    out: list[set[str]] = [set() for _ in range(len(truth))]
    explore = EXPLORE_PHASES[strategy]
    for i in range(len(truth)):
        if phase[i] in explore:
            out[i] = {f for f in present if onset[i] < t_rep[f]}
    if strategy != "explore":
        for f in present:
            if not math.isfinite(t_rep[f]):
                continue
            idx = np.flatnonzero(
                np.isin(phase, list(SEARCH_PHASES))
                & np.array([a == (f,) for a in aims], bool)
                & (onset < t_rep[f])
            )
            for i in idx[-max_seq:]:
                out[i].add(f)
    return [sorted(v) for v in out]
