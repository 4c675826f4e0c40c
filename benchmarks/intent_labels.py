"""Agreement of gazekit's intent labellers with the synthetic ground truth.

For each reading strategy of :mod:`gazekit.synthetic` (seq, explore, hybrid) and each
labeller regime (radseq, radexplore, radhybrid), simulate sessions, label the fixations
and compare with the truth table's ``intended_findings``:

* exact-set accuracy (all findings of a fixation right),
* macro-F1 over GazeIntent findings with truth positives,
* Cohen's kappa on the label set as one categorical label ("none" when empty).

Two inputs: the true fixations (``truth`` — isolates the labelling rule) and the
tracker's fixations (``tracker`` — matched to the truth fixation they overlap most;
unmatched tracker fixations count with truth "none").

Usage: ``python benchmarks/intent_labels.py [--sessions 8] [--size 512]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from gazekit.intent import (
    GAZEINTENT_FINDINGS,
    IntentParams,
    IntentWarning,
    label_fixations,
    to_multihot,
)
from gazekit.metrics.classification import cohen_kappa, multilabel_report
from gazekit.synthetic import simulate_session

PAIRS = {"seq": "radseq", "explore": "radexplore", "hybrid": "radhybrid"}


def match_truth(fix: pd.DataFrame, truth: pd.DataFrame) -> list[list[str]]:
    """Truth labels of each fixation: those of the truth fixation it overlaps most."""
    on, off = truth["onset_ms"].to_numpy(), truth["offset_ms"].to_numpy()
    out = []
    for a, b in zip(fix["onset_ms"], fix["offset_ms"], strict=True):
        ov = np.minimum(off, b) - np.maximum(on, a)
        k = int(np.argmax(ov))
        out.append(list(truth["intended_findings"].iloc[k]) if ov[k] > 0 else [])
    return out


def agreement(truth: list[list[str]], pred: pd.DataFrame) -> dict[str, float]:
    t = to_multihot(pd.DataFrame({"labels": truth}))
    p = to_multihot(pred)
    rep = multilabel_report(t, p, classes=GAZEINTENT_FINDINGS)
    key = lambda v: "|".join(sorted(v)) or "none"  # noqa: E731
    return {
        "accuracy": rep["exact_match_accuracy"],
        "macro_f1": rep["macro"]["f1"],
        "kappa": cohen_kappa([key(v) for v in truth], [key(v) for v in pred["labels"]]),
        "n": len(pred),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    rows = []
    t0 = time.perf_counter()
    for strategy in PAIRS:
        truths, preds = {r: [] for r in ("truth", "tracker")}, {}
        for seed in range(args.sessions):
            s = simulate_session(seed=seed, strategy=strategy, image_size=args.size)
            rec = s.recording
            ev = rec.events[rec.events["event"] == "fixation"]
            inputs = {"truth": s.truth, "tracker": ev}
            for src, fx in inputs.items():
                truth = [list(v) for v in s.truth["intended_findings"]]
                if src == "tracker":
                    truth = match_truth(fx.sort_values("onset_ms"), s.truth)
                truths[src].extend(truth)
                for regime in PAIRS.values():
                    for absent in (False, True):
                        if absent and regime == "radexplore":
                            continue
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", IntentWarning)
                            df = label_fixations(
                                fx,
                                rec.transcript,
                                rec.findings,
                                regime,
                                geometry=rec.geometry,
                                params=IntentParams(absent_findings=absent),
                            )
                        preds.setdefault((src, regime, absent), []).append(df)
        for (src, regime, absent), dfs in preds.items():
            pred = pd.concat(dfs, ignore_index=True)
            rows.append(
                {"strategy": strategy, "input": src, "regime": regime, "absent": absent}
                | agreement(truths[src], pred)
            )
    res = pd.DataFrame(rows)
    res["matched"] = [PAIRS[s] == r for s, r in zip(res["strategy"], res["regime"], strict=True)]
    pd.set_option("display.width", 140)
    print(res.round(3).to_string(index=False))
    print(f"\n{args.sessions} sessions/strategy, {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
