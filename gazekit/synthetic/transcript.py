"""Timed dictation: the reader mentions each finding one to a few seconds after looking at it.

Every phrase is built so that :func:`gazekit.vocab.mentioned_findings`
recognises exactly the finding it reports (the templates use its SYNONYMS), and
normal-anatomy phrases ("no pneumothorax", "heart size is normal") are recognised
as no finding. Eye–voice lag (first look at the finding → phrase start) is
lognormal, median 1.8 s, clipped to 1–4 s; phrases are spoken one after another
(≈ 330 ms per word), so a phrase queued behind another starts later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazekit.synthetic.findings import Finding

#: Dictation templates per GazeIntent finding ({side}, {zone}, {sev} are filled in).
FINDING_TEMPLATES: dict[str, tuple[str, ...]] = {
    "pleural_effusion": (
        "{sev} {side} pleural effusion",
        "{side} pleural effusion with blunting of the costophrenic angle",
    ),
    "pleural_other": ("{side} pleural thickening",),
    "pneumonia": ("findings compatible with {side} {zone} zone pneumonia",),
    "fracture": ("{side} rib fracture", "fracture of a {side} rib"),
    "consolidation": (
        "{side} {zone} zone consolidation",
        "focal consolidation in the {side} {zone} zone",
    ),
    "pneumothorax": ("{sev} {side} apical pneumothorax", "{side} pneumothorax"),
    "lung_lesion": ("{sev} nodule in the {side} {zone} zone", "{side} {zone} zone nodule"),
    "edema": ("{sevm} pulmonary edema", "pulmonary vascular congestion with interstitial markings"),
    "enlarged_cardiomediastinum": ("widened mediastinum", "mediastinal widening"),
    "atelectasis": ("{side} basilar atelectasis", "{side} lower zone atelectasis"),
    "support_devices": ("endotracheal tube and central venous catheter in place",),
    "lung_opacity": ("hazy opacity in the {side} {zone} zone",),
    "cardiomegaly": ("the heart is enlarged", "cardiomegaly", "enlarged cardiac silhouette"),
}

#: What the reader says when a checklist item is normal (None: says nothing).
NORMAL_PHRASES: dict[str, str | None] = {
    "pneumothorax": "no pneumothorax",
    "pleural_effusion": "no pleural effusion",
    "cardiomegaly": "heart size is normal",
    "consolidation": "no focal consolidation",
    "lung_lesion": "no suspicious pulmonary nodule",
    "edema": "no pulmonary edema",
    "enlarged_cardiomediastinum": "the mediastinum is within normal limits",
    "atelectasis": "no atelectasis",
    "lung_opacity": "the lungs are otherwise clear",
    "pneumonia": "no evidence of pneumonia",
    "fracture": "no acute fracture",
    "pleural_other": "no pleural thickening",
    "support_devices": None,
}

#: Normal statements a report always makes when the item was checked.
KEY_NORMALS = ("pneumothorax", "pleural_effusion", "cardiomegaly", "consolidation")

_SEVM = {"small": "mild", "moderate": "moderate", "large": "severe"}


def finding_phrase(f: Finding, rng: np.random.Generator) -> str:
    """A dictated sentence reporting finding ``f``."""
    templates = FINDING_TEMPLATES[f.label]
    t = templates[int(rng.integers(len(templates)))]
    parts = f.region.split("_")
    zone = parts[1] if len(parts) == 3 and parts[2] == "zone" else "lower"
    text = t.format(side=f.side or "right", zone=zone, sev=f.severity, sevm=_SEVM[f.severity])
    return text[0].upper() + text[1:] + "."


def dictate(
    findings: list[Finding],
    fixation_onsets_ms: np.ndarray,
    finding_index: np.ndarray,
    intended: list[list[str]],
    phase: list[str],
    end_ms: float,
    rng: np.random.Generator,
    recording_id: str,
    lag_median_ms: float = 1800.0,
) -> pd.DataFrame:
    """Build the timed transcript of a reading.

    Parameters
    ----------
    findings : list of Finding
    fixation_onsets_ms : (N,) ndarray of float64
        Onset of each scanpath fixation.
    finding_index : (N,) ndarray of int64
        Finding fixated on by each fixation (-1 none).
    intended, phase : list
        Per-fixation intended findings and phase (normal phrases follow the last
        search fixation of each checklist item that was not found).
    end_ms : float
        End of the reading (phrases with no anchor are spoken after it).
    rng : numpy.random.Generator
    recording_id : str

    Returns
    -------
    pandas.DataFrame
        ``transcripts`` schema rows, ``level="phrase"``, sorted by time.
    """
    present = {f.label for f in findings}
    said: list[tuple[float, float, str]] = []  # (start, end, text)
    # findings first: spoken as soon as the lag allows; normal phrases fill the gaps
    prev_end = -1e9
    firsts = []
    for i, f in enumerate(findings):
        looks = np.flatnonzero(finding_index == i)
        if len(looks) > 0:  # never looked at: missed, not reported
            firsts.append((float(fixation_onsets_ms[looks[0]]), f))
    firsts.sort(key=lambda w: w[0])
    for onset, f in firsts:
        text = finding_phrase(f, rng)
        start = max(onset + _lag(rng, lag_median_ms), prev_end + float(rng.uniform(150, 400)))
        end = start + _speech_ms(text, rng)
        said.append((start, end, text))
        prev_end = end
    searched: dict[str, int] = {}
    for j, (lab, ph) in enumerate(zip(intended, phase, strict=True)):
        if ph == "search" and len(lab) == 1:
            searched[lab[0]] = j
    normals = [
        (lab, j)
        for lab, j in searched.items()
        if lab not in present and NORMAL_PHRASES[lab] and (lab in KEY_NORMALS or rng.random() < 0.3)
    ]
    if not searched:  # exploration: a short normal summary at the end
        normals = [(lab, -1) for lab in KEY_NORMALS if lab not in present]
    for lab, j in sorted(normals, key=lambda w: w[1] if w[1] >= 0 else 1 << 30):
        anchor = float(fixation_onsets_ms[j]) if j >= 0 else end_ms
        text = str(NORMAL_PHRASES[lab])
        text = text[0].upper() + text[1:] + "."
        start = anchor + _lag(rng, lag_median_ms)
        dur = _speech_ms(text, rng)
        gap = 250.0
        for s0, e0, _ in sorted(said):  # first slot at or after `start` that fits
            if start + dur + gap <= s0 or start >= e0 + gap:
                continue
            start = e0 + gap
        said.append((start, start + dur, text))
    said.sort()
    return pd.DataFrame(
        {
            "recording_id": [recording_id] * len(said),
            "level": ["phrase"] * len(said),
            "text": [s[2] for s in said],
            "start_ms": np.array([s[0] for s in said], dtype=np.float64),
            "end_ms": np.array([s[1] for s in said], dtype=np.float64),
        }
    )


def _lag(rng: np.random.Generator, median_ms: float) -> float:
    """Eye–voice lag (ms): lognormal around ``median_ms``, clipped to 1–4 s."""
    return float(np.clip(median_ms * np.exp(rng.normal(0, 0.35)), 1000.0, 4000.0))


def _speech_ms(text: str, rng: np.random.Generator) -> float:
    return len(text.split()) * float(rng.uniform(280, 380))


def to_words(transcript: pd.DataFrame) -> pd.DataFrame:
    """Split phrase rows into ``level="word"`` rows (REFLACX-style word timestamps).

    Each phrase's time is shared among its words in proportion to their length
    (punctuation becomes its own zero-length token, as in REFLACX).
    """
    rows = []
    for r in transcript.itertuples(index=False):
        if r.level != "phrase":
            continue
        tokens = []
        for w in r.text.split():
            core = w.rstrip(".,;")
            tokens.append(core)
            if core != w:
                tokens.append(w[len(core) :])
        weights = np.array([len(t) if t.isalnum() or len(t) > 1 else 0 for t in tokens], float)
        edges = r.start_ms + (r.end_ms - r.start_ms) * np.concatenate(
            [[0.0], np.cumsum(weights) / max(weights.sum(), 1.0)]
        )
        for k, tok in enumerate(tokens):
            rows.append((r.recording_id, "word", tok, float(edges[k]), float(edges[k + 1])))
    return pd.DataFrame(rows, columns=["recording_id", "level", "text", "start_ms", "end_ms"])
