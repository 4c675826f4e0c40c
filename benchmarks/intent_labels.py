"""Agreement of gazekit's intent labellers with the synthetic reader's true intention.

For each reading strategy of :mod:`gazekit.synthetic` (seq, explore, hybrid), simulate
sessions, label their fixations with the matching regime (radseq, radexplore,
radhybrid) and compare with :meth:`Session.intent_truth` — the same definitions applied
to what the reader aimed each fixation at (:mod:`gazekit.synthetic.truth`).

Scored on **recoverable findings**: findings present on the image and reported by the
reader (a label rule can only name a finding that has a location and a report time). For
every fixation × recoverable finding, truth and label are binary; the table gives
Cohen's kappa, precision and recall over those pairs, overall and per true reading phase
(scan/explore/return/search/verify/review). Two inputs: the true fixations (``truth``,
isolates the rule) and the tracker's fixations (``tracker``, matched to the true fixation
they overlap most; unmatched ones have no true label).

The reader's *aims* at absent checklist items (searches that no target-present rule can
label) are counted separately as ``unrecoverable`` (share of aimed fixations).

Usage: ``python benchmarks/intent_labels.py [--sessions 12] [--size 512]``
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

from gazekit.intent import IntentParams, IntentWarning, label_fixations
from gazekit.metrics.classification import cohen_kappa
from gazekit.synthetic import simulate_session

PAIRS = {"seq": "radseq", "explore": "radexplore", "hybrid": "radhybrid"}


def match_truth(fix: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    """Index of the truth fixation each fixation overlaps most (-1 when none)."""
    on, off = truth["onset_ms"].to_numpy(), truth["offset_ms"].to_numpy()
    out = np.full(len(fix), -1)
    for j, (a, b) in enumerate(zip(fix["onset_ms"], fix["offset_ms"], strict=True)):
        ov = np.minimum(off, b) - np.maximum(on, a)
        k = int(np.argmax(ov))
        out[j] = k if ov[k] > 0 else -1
    return out


def pairs(session, fix: pd.DataFrame, labels: pd.DataFrame, match: np.ndarray) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """One row per fixation × recoverable finding: truth, label and the true phase."""
    truth = session.intent_truth()
    rec = session.recording
    from gazekit.synthetic.truth import report_times

    t_rep = report_times(rec.transcript, [f.label for f in session.findings])
    recoverable = sorted(f for f, t in t_rep.items() if np.isfinite(t))
    rows = []
    phases = session.truth["phase"].to_numpy()
    for j in range(len(fix)):
        k = match[j]
        true = set(truth[k]) if k >= 0 else set()
        phase = phases[k] if k >= 0 else "unmatched"
        lab = set(labels["labels"].iloc[j])
        for f in recoverable:
            rows.append((phase, f, f in true, f in lab))
    return pd.DataFrame(rows, columns=["phase", "finding", "truth", "label"])


def scores(df: pd.DataFrame) -> dict[str, float]:
    t, p = df["truth"].to_numpy(), df["label"].to_numpy()
    tp = float((t & p).sum())
    return {
        "kappa": cohen_kappa(t.tolist(), p.tolist()) if len(df) else np.nan,
        "precision": tp / p.sum() if p.sum() else np.nan,
        "recall": tp / t.sum() if t.sum() else np.nan,
        "positives": int(t.sum()),
        "pairs": len(df),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=12)
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    t0 = time.perf_counter()
    overall, by_phase, unrec = [], [], []
    for strategy, regime in PAIRS.items():
        got: dict[str, list[pd.DataFrame]] = {"truth": [], "tracker": []}
        aimed = absent = 0
        for seed in range(args.sessions):
            s = simulate_session(seed=seed, strategy=strategy, image_size=args.size)
            rec = s.recording
            present = {f.label for f in s.findings}
            for aim in s.truth["intended_findings"]:
                if len(aim) == 1:
                    aimed += 1
                    absent += aim[0] not in present
            tracker = rec.events[rec.events["event"] == "fixation"].sort_values("onset_ms")
            for src, fx in (("truth", s.truth), ("tracker", tracker)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", IntentWarning)
                    lab = label_fixations(fx, rec.transcript, rec.findings, regime,
                                          geometry=rec.geometry, params=IntentParams())  # fmt: skip
                fx_sorted = fx.sort_values("onset_ms", kind="stable").reset_index(drop=True)
                match = (
                    np.arange(len(fx_sorted)) if src == "truth" else match_truth(fx_sorted, s.truth)
                )
                got[src].append(pairs(s, fx_sorted, lab, match))
        unrec.append({"strategy": strategy, "single_finding_aims": aimed,
                      "aimed_at_absent_items": absent / aimed if aimed else np.nan})  # fmt: skip
        for src, parts in got.items():
            df = pd.concat(parts, ignore_index=True)
            overall.append({"strategy": strategy, "regime": regime, "input": src} | scores(df))
            for ph, g in df.groupby("phase"):
                by_phase.append({"strategy": strategy, "input": src, "phase": ph} | scores(g))
    pd.set_option("display.width", 160)
    print("Agreement with the simulator's truth on recoverable (present, reported) findings")
    print(pd.DataFrame(overall).round(3).to_string(index=False))
    print("\nper true reading phase")
    print(pd.DataFrame(by_phase).round(3).to_string(index=False))
    print("\nunrecoverable aims (searches for absent checklist items; no truth label)")
    print(pd.DataFrame(unrec).round(3).to_string(index=False))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{args.sessions} sessions/strategy, {time.perf_counter() - t0:.1f} s, load {load:.1f}")


if __name__ == "__main__":
    main()
