"""The ``events`` step of ``gazekit demo``: I-VT fixations for every session.

Runs before the ``heatmaps`` step: it writes the detected events into the
dataset's ``events.parquet`` (tracker rows kept) and hands the detected fixations
to the later steps (``ctx.results["fixations"]``), so the heatmaps, intent labels
and the figure use the detector's fixations instead of the tracker's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gazekit.demo.context import StepSkipped

METHOD = "ivt"


def with_phase(fix: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Add the reading phase of the true fixation under each detected fixation's midpoint."""
    if not len(truth) or "phase" not in truth.columns:
        return fix
    tr = truth.sort_values("onset_ms")
    mid = 0.5 * (fix["onset_ms"].to_numpy() + fix["offset_ms"].to_numpy())
    i = np.clip(np.searchsorted(tr["onset_ms"].to_numpy(), mid, side="right") - 1, 0, len(tr) - 1)
    out = fix.copy()
    out["phase"] = tr["phase"].to_numpy()[i]
    return out


def step_events(ctx: Any) -> str:
    """Detect events with I-VT; compare them with the synthetic truth (sample-level κ)."""
    from gazekit import events
    from gazekit.metrics.classification import cohen_kappa

    if not ctx.sessions:
        raise StepSkipped("no sessions")
    params = events.detector_parameters(METHOD)
    frames, kappas = [], []
    for s in ctx.sessions:
        rec = s.recording
        sig = events.prepare(rec)
        codes = events.label_samples(sig, METHOD)
        frames.append(events.events_from_labels(sig, codes, METHOD, recording_id=rec.recording_id))
        if "label" in rec.samples.columns:
            truth = rec.samples["label"].to_numpy(dtype=object, na_value="") == "fixation"
            kappas.append(cohen_kappa(truth, codes == events.FIXATION))
    detected = pd.concat(frames, ignore_index=True)
    if ctx.dataset_dir is not None:
        from gazekit.events.files import write_events

        out = write_events(detected, ctx.dataset_dir, METHOD, params)
        ctx.artifacts["events"] = out
    fix = detected[detected["event"] == "fixation"]
    ctx.results["fixations"] = {
        s.recording_id: with_phase(
            fix[fix["recording_id"] == s.recording_id].reset_index(drop=True), s.truth
        )
        for s in ctx.sessions
    }
    ctx.results["events"] = detected
    n_true = sum(len(s.truth) for s in ctx.sessions)
    kappa = f", sample κ(fixation) vs truth {np.mean(kappas):.2f}" if kappas else ""
    return f"I-VT: {len(fix)} fixations (truth {n_true}), {len(detected)} events{kappa}"

