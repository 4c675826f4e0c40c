"""Per-fixation diagnostic-intention labels: RadSeq, RadExplore and RadHybrid.

RadGazeIntent (Pham et al., ACM MM 2025, arXiv 2507.12461, Sec. 3 and its dataset
figure) labels each fixation of a radiologist with the finding(s) the reader is looking
for, under three regimes. The public release ships only the finished labels, so gazekit
implements the rules below (all parameters in :class:`IntentParams`, physical units). A
finding's *report time* ``t_f`` is the start of the first transcript phrase that
mentions it (:func:`~gazekit.vocab.mentioned_findings`, negations skipped); a finding
that is never mentioned has ``t_f = +inf``.

``radexplore`` (uncertainty-driven exploration, "uncertainty filtering")
    A finding is a target until it has been reported: every *valid* fixation starting
    before ``t_f`` is labelled with finding ``f``, so each finding labels a different,
    nested prefix of the scanpath (the paper's dataset figure), and fixations after the
    last report carry no label. A finding never reported stays a target to the end of
    the reading (its uncertainty was never resolved). Findings with a reader
    ``certainty`` below ``min_certainty`` are dropped (off by default); fixations shorter
    than ``min_fixation_s`` or without a position stay unlabelled.
``radseq`` (systematic sequential search, GazeSearch-style subsequences)
    For each reported finding with a location, the *find* is the first fixation inside
    one of its regions (box or inscribed ellipse grown by ``margin_deg``, converted with
    :meth:`Geometry.px_per_deg`; ``margin_px`` when degrees are unknown) that starts in
    ``[t_f - lag_before_s, t_f)``; the find grows to its whole dwell (the consecutive
    fixations on the finding before ``t_f``). The finding's subsequence is that dwell
    and the fixations just before it, at most ``max_seq_fixations`` in all and never
    reaching into an earlier finding's subsequence: a visual search that ends on the
    target, before the target is reported (GazeSearch, Pham et al. 2024: target-present
    search scanpaths of ≤ ~7 fixations ending on the target). Each fixation of it is
    labelled with that single finding (``target`` = ``labels[0]``); findings are taken
    in report order. Findings never reported, or not fixated in their window, get none.
    Findings the reader rules out ("no pneumothorax") get no subsequence: without a
    location there is no fixation the search provably ended on.
``radhybrid`` (initial broad scan, then focused examination)
    The fixations starting less than ``scan_s`` after the first fixation are labelled
    as in ``radexplore``; the rest as in ``radseq`` (subsequences overlapping the scan
    keep only their part after it). A fixed-duration scan is used because dictation
    often starts during the scan.

The synthetic reader's ground truth (:func:`gazekit.synthetic.truth.intent_truth`)
applies the same definitions to the fixations the reader *aimed* at each finding, so
agreement measures how well these observable rules recover the intention.
``lag_before_s``, ``margin_deg``, ``max_seq_fixations`` and ``scan_s`` are gazekit's
documented defaults, not the authors' values (which are not published).
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazekit import schemas, vocab
from gazekit.errors import GazekitError, InputError
from gazekit.geometry import PPD_COLUMNS, Geometry, local_px_per_deg
from gazekit.registry import Registry

log = logging.getLogger(__name__)

REGIMES: tuple[str, ...] = ("radseq", "radexplore", "radhybrid")
LABEL_COLUMNS: tuple[str, ...] = (
    "recording_id",
    "fixation_index",
    "onset_ms",
    "offset_ms",
    "x_px",
    "y_px",
    "regime",
    "phase",
    "target",
    "labels",
)


class IntentWarning(UserWarning):
    """Input that gazekit can label but that is probably wrong (documented fallback)."""


@dataclass(frozen=True)
class IntentParams:
    """Parameters of the intent labellers (physical units).

    Attributes
    ----------
    lag_before_s : float, default 3.0
        How long before a finding's dictation onset fixations may be aimed at it (s).
        Eye–voice lag in radiology dictation is typically 1–3 s.
    margin_deg : float, default 1.0
        Region margin (deg): a fixation within this angle of a finding's shape matches
        it (tracker accuracy ~0.5–1 deg plus parafoveal vision).
    margin_px : float, default 30.0
        Margin (px of the fixation frame) used when degrees are unknown.
    max_seq_fixations : int, default 7
        Longest RadSeq subsequence per finding (GazeSearch's ≤ ~6–7 fixations).
    scan_s : float, default 3.0
        Longest initial broad scan of ``radhybrid`` (s after the first fixation).
    min_fixation_s : float, default 0.05
        Shorter fixations are left unlabelled (s).
    min_certainty : float, optional
        Findings with a reader certainty below this are dropped (uncertainty filter).
    phrase_gap_s : float, default 0.6
        Word-level transcripts are grouped into phrases at sentence ends or pauses
        longer than this (s).
    """

    lag_before_s: float = 3.0
    margin_deg: float = 1.0
    margin_px: float = 30.0
    max_seq_fixations: int = 7
    scan_s: float = 3.0
    min_fixation_s: float = 0.05
    min_certainty: float | None = None
    phrase_gap_s: float = 0.6

    def __post_init__(self) -> None:
        for name in (
            "lag_before_s",
            "margin_deg",
            "margin_px",
            "scan_s",
        ):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"IntentParams.{name} must be a finite number >= 0, got {v}")
        if self.max_seq_fixations < 1:
            raise InputError("IntentParams.max_seq_fixations must be >= 1")


LabelFn = Callable[..., pd.DataFrame]
#: Registry of labellers: ``fn(fixations, transcript, findings, *, geometry, params,
#: vocabulary, recording_id) -> DataFrame`` (intent_labels schema).
labellers: Registry[LabelFn] = Registry("intent labeller")


# --------------------------------------------------------------------------- inputs
def phrases_from_words(words: pd.DataFrame, gap_s: float = 0.6) -> pd.DataFrame:
    """Group word-level transcript rows into phrases.

    A phrase ends at a word ending in ``.``, ``;``, ``?`` or ``!`` or before a pause
    longer than ``gap_s`` seconds. Phrase rows keep the transcripts schema
    (``level="phrase"``).

    Parameters
    ----------
    words : DataFrame
        Word rows of one recording: ``text``, ``start_ms``, ``end_ms`` (ms) and
        optionally ``recording_id``; sorted by ``start_ms`` here.
    gap_s : float, s
        Longest pause between two words of one phrase (0.6 s by default).

    Returns
    -------
    DataFrame
        One row per phrase: ``recording_id``, ``level``, ``text`` (the words joined by
        spaces), ``start_ms`` of its first word and ``end_ms`` of its last (ms); a copy
        of ``words`` when it is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> words = pd.DataFrame({"text": ["small", "effusion.", "no", "pneumothorax"],
    ...                       "start_ms": [0.0, 400.0, 900.0, 1200.0],
    ...                       "end_ms": [350.0, 800.0, 1100.0, 1800.0]})
    >>> phrases_from_words(words)[["text", "start_ms", "end_ms"]]
                   text  start_ms  end_ms
    0   small effusion.       0.0   800.0
    1   no pneumothorax     900.0  1800.0
    """
    if words.empty:
        return words.copy()
    w = words.sort_values("start_ms", kind="stable").reset_index(drop=True)
    texts = w["text"].astype(str).tolist()
    start = w["start_ms"].to_numpy(float)
    end = w["end_ms"].to_numpy(float)
    rows, cur = [], [0]
    for i in range(1, len(w)):
        brk = re.search(r"[.;?!]\s*$", texts[i - 1]) is not None
        if brk or start[i] - end[i - 1] > gap_s * 1000.0:
            rows.append(cur)
            cur = []
        cur.append(i)
    rows.append(cur)
    rid = w["recording_id"].iloc[0] if "recording_id" in w else ""
    return pd.DataFrame(
        {
            "recording_id": [rid] * len(rows),
            "level": ["phrase"] * len(rows),
            "text": [" ".join(texts[j] for j in r) for r in rows],
            "start_ms": [start[r[0]] for r in rows],
            "end_ms": [end[r[-1]] for r in rows],
        }
    )


def _phrases(transcript: pd.DataFrame | None, params: IntentParams) -> pd.DataFrame:
    if transcript is None or transcript.empty:
        return pd.DataFrame(columns=["text", "start_ms", "end_ms"])
    t = transcript
    if "level" in t.columns and (t["level"] == "phrase").any():
        return t[t["level"] == "phrase"]
    return phrases_from_words(t, params.phrase_gap_s)


def _finding_name(label: str, corpus: str | None) -> str | None:
    if label in vocab.GAZEINTENT_FINDINGS:
        return label
    corpora = [corpus] if corpus else ["reflacx", "egd"]
    for c in corpora:
        try:
            return vocab.to_gazeintent(label, c)
        except KeyError:
            continue
    raise InputError(
        f"unknown finding label {label!r}: not a GazeIntent, REFLACX or EGD-CXR label "
        "(see gazekit.vocab)",
        column="label",
    )


def _prepare_findings(
    findings: pd.DataFrame | None,
    params: IntentParams,
    geometry: Geometry | None,
    corpus: str | None,
) -> pd.DataFrame:
    cols = ["finding", "shape", "xmin", "ymin", "xmax", "ymax"]
    if findings is None or findings.empty:
        return pd.DataFrame(columns=cols)
    f = findings.copy()
    f["finding"] = [_finding_name(str(lab), corpus) for lab in f["label"]]
    unmapped = f.loc[f["finding"].isna(), "label"].unique().tolist()
    if unmapped:
        log.info("findings without a GazeIntent counterpart ignored: %s", unmapped)
    f = f[f["finding"].notna()]
    if params.min_certainty is not None and "certainty" in f:
        low = f["certainty"].notna() & (f["certainty"] < params.min_certainty)
        if low.any():
            log.info("uncertainty filter dropped %d finding(s)", int(low.sum()))
        f = f[~low]
    box = f[["xmin", "ymin", "xmax", "ymax"]].to_numpy(float)
    if len(box) and (~np.isfinite(box)).any():
        raise InputError("finding boxes must be finite", column="xmin")
    if len(box) and ((box[:, 2] < box[:, 0]) | (box[:, 3] < box[:, 1])).any():
        raise InputError("finding boxes need xmin <= xmax and ymin <= ymax", column="xmax")
    if geometry is not None and geometry.image_w_px and geometry.image_h_px and len(box):
        w, h = float(geometry.image_w_px), float(geometry.image_h_px)
        out = (box[:, 2] < 0) | (box[:, 3] < 0) | (box[:, 0] > w) | (box[:, 1] > h)
        if out.any():
            raise InputError(
                f"{int(out.sum())} finding box(es) lie entirely outside the {w:g}x{h:g} image"
            )
        part = (box[:, 0] < 0) | (box[:, 1] < 0) | (box[:, 2] > w) | (box[:, 3] > h)
        if part.any():
            warnings.warn(
                f"{int(part.sum())} finding box(es) extend past the image; used as given",
                IntentWarning,
                stacklevel=3,
            )
    return f[cols].reset_index(drop=True)


def margin_in_px(
    geometry: Geometry | None, params: IntentParams, fixations: pd.DataFrame | None = None
) -> float | np.ndarray:
    """Region margin in px of the fixation frame: ``margin_deg`` when degrees are known.

    Parameters
    ----------
    geometry : Geometry or None
    params : IntentParams
    fixations : DataFrame, optional
        With ``px_per_deg_x``/``px_per_deg_y`` columns (a viewer that zooms: REFLACX), the
        margin is taken at each fixation's own mapping (mean of the two axes).

    Returns
    -------
    float or (N,) ndarray, px
    """
    if fixations is not None and any(
        c in fixations.columns and np.isfinite(fixations[c].to_numpy(float)).any()
        for c in PPD_COLUMNS
    ):
        ppx, ppy = local_px_per_deg(fixations, geometry)
        ppd = (ppx + ppy) / 2.0
        if np.isfinite(ppd).all():
            return params.margin_deg * ppd
    if geometry is not None and geometry.has_degrees:
        return float(geometry.deg_to_px(params.margin_deg))
    log.info("viewing geometry unknown: region margin %.1f px", params.margin_px)
    return params.margin_px


def inside_regions(
    x: np.ndarray, y: np.ndarray, findings: pd.DataFrame, margin: float | np.ndarray
) -> np.ndarray:
    """Which fixations lie inside which finding shape grown by ``margin`` px.

    Parameters
    ----------
    x, y : (N,) ndarray of float64, px
    findings : DataFrame with ``shape, xmin, ymin, xmax, ymax`` (F rows)
    margin : float or (N,) ndarray, px
        One margin, or each fixation's own (see :func:`margin_in_px`).

    Returns
    -------
    (N, F) ndarray of bool
        NaN positions match nothing. Ellipses are inscribed in their box; the margin
        grows both semi-axes.
    """
    x = np.asarray(x, float)[:, None]
    y = np.asarray(y, float)[:, None]
    b = findings[["xmin", "ymin", "xmax", "ymax"]].to_numpy(float)
    if len(b) == 0:
        return np.zeros((x.shape[0], 0), bool)
    x0, y0, x1, y1 = (b[:, k][None, :] for k in range(4))
    margin = np.asarray(margin, float)
    margin = margin[:, None] if margin.ndim == 1 else margin
    in_box = (x >= x0 - margin) & (x <= x1 + margin) & (y >= y0 - margin) & (y <= y1 + margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax = np.maximum((x1 - x0) / 2 + margin, 1e-9)
    ay = np.maximum((y1 - y0) / 2 + margin, 1e-9)
    in_ell = ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 <= 1.0
    is_ell = (findings["shape"].to_numpy() == "ellipse")[None, :]
    return np.where(is_ell, in_ell, in_box)


def dictation_times(
    phrases: pd.DataFrame, vocabulary: Sequence[str], *, negated: bool = False
) -> dict[str, float]:
    """First dictation onset (ms) of each vocabulary finding mentioned in ``phrases``.

    ``negated=True`` counts negated mentions ("no effusion") too.
    """
    out: dict[str, float] = {}
    for text, t in zip(phrases["text"], phrases["start_ms"], strict=True):
        for f in vocab.mentioned_findings(str(text), skip_negated=not negated):
            if f in vocabulary and f not in out:
                out[f] = float(t)
    return out


def _check_times(fix: pd.DataFrame, phrases: pd.DataFrame) -> None:
    if phrases.empty or fix.empty:
        return
    lo, hi = float(fix["onset_ms"].min()), float(fix["offset_ms"].max())
    s = phrases["start_ms"].to_numpy(float)
    e = phrases["end_ms"].to_numpy(float)
    if (~np.isfinite(s)).any() or (e < s).any():
        raise InputError(
            "transcript times must be finite with end_ms >= start_ms", column="start_ms"
        )
    slack = 60_000.0
    out = (s > hi + slack) | (e < lo - slack)
    if out.any():
        raise InputError(
            f"{int(out.sum())} transcript phrase(s) lie more than 60 s outside the "
            f"fixations ({lo:.0f}–{hi:.0f} ms): different clocks?",
            column="start_ms",
        )
    if ((s > hi + 10_000.0) | (e < lo)).any():
        warnings.warn(
            "some transcript phrases end before the first fixation or start > 10 s after the last; "
            "their findings get no RadSeq subsequence",
            IntentWarning,
            stacklevel=3,
        )


def _prepare_fixations(fixations: pd.DataFrame) -> pd.DataFrame:
    need = ("onset_ms", "offset_ms", "x_px", "y_px")
    missing = [c for c in need if c not in fixations.columns]
    if missing:
        raise InputError(f"fixations lack column(s) {missing}")
    fix = fixations
    if "event" in fix.columns:
        fix = fix[fix["event"] == "fixation"]
    fix = fix.sort_values("onset_ms", kind="stable").reset_index(drop=True)
    if (fix["offset_ms"].to_numpy(float) < fix["onset_ms"].to_numpy(float)).any():
        raise InputError("fixations need offset_ms >= onset_ms", column="offset_ms")
    return fix


# --------------------------------------------------------------------------- rules
def seq_assignment(
    fix: pd.DataFrame,
    phrases: pd.DataFrame,
    regions: pd.DataFrame,
    vocabulary: Sequence[str],
    margin: float | np.ndarray,
    params: IntentParams,
) -> np.ndarray:
    """RadSeq target of each fixation (object array, ``None`` for none); see module doc."""
    n = len(fix)
    target = np.full(n, None, dtype=object)
    if n == 0 or regions.empty:
        return target
    onset = fix["onset_ms"].to_numpy(float)
    ok = _valid(fix, params)
    inside = inside_regions(
        fix["x_px"].to_numpy(float), fix["y_px"].to_numpy(float), regions, margin
    )
    times = dictation_times(phrases, vocabulary)
    names = regions["finding"].to_numpy()
    located = [f for f in dict.fromkeys(names) if f in times]
    for f in set(names) - set(located):
        log.info("finding %s is never reported: no RadSeq subsequence", f)
    claimed_until = -1  # subsequences never reach into an earlier one
    for f in sorted(located, key=lambda g: times[g]):
        t = times[f]
        on = inside[:, names == f].any(axis=1) & ok
        before = onset < t
        hit = np.flatnonzero(on & before & (onset >= t - params.lag_before_s * 1e3))
        hit = hit[hit > claimed_until]
        if hit.size == 0:
            log.info("finding %s reported at %.0f ms but not fixated in its window", f, t)
            continue
        last = int(hit[0])  # the find, grown to its whole dwell before the report
        while last + 1 < n and on[last + 1] and before[last + 1]:
            last += 1
        start = max(last - params.max_seq_fixations + 1, claimed_until + 1)
        idx = np.arange(start, last + 1)
        idx = idx[ok[idx] & np.array([target[i] is None for i in idx], bool)]
        target[idx] = f
        claimed_until = max(claimed_until, last)
    return target


def report_times(
    phrases: pd.DataFrame, regions: pd.DataFrame, vocabulary: Sequence[str]
) -> dict[str, float]:
    """Report time (ms) of every finding of the image; ``inf`` when never reported."""
    times = dictation_times(phrases, vocabulary)
    return {f: times.get(f, math.inf) for f in _explore_labels(regions, vocabulary)}


def _valid(fix: pd.DataFrame, params: IntentParams) -> np.ndarray:
    dur = fix["offset_ms"].to_numpy(float) - fix["onset_ms"].to_numpy(float)
    pos = np.isfinite(fix["x_px"].to_numpy(float)) & np.isfinite(fix["y_px"].to_numpy(float))
    return pos & (dur >= params.min_fixation_s * 1e3)


def _table(
    fix: pd.DataFrame, recording_id: str, regime: str, phase, target, labels
) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    n = len(fix)
    return pd.DataFrame(
        {
            "recording_id": pd.Series([recording_id] * n, dtype="string"),
            "fixation_index": np.arange(n, dtype=np.int64),
            "onset_ms": fix["onset_ms"].to_numpy(float),
            "offset_ms": fix["offset_ms"].to_numpy(float),
            "x_px": fix["x_px"].to_numpy(float),
            "y_px": fix["y_px"].to_numpy(float),
            "regime": pd.Series([regime] * n, dtype="string"),
            "phase": pd.Series(list(phase), dtype="string"),
            "target": pd.Series(list(target), dtype="string"),
            "labels": [list(v) for v in labels],
        }
    )


def _explore_labels(regions: pd.DataFrame, vocabulary: Sequence[str]) -> list[str]:
    present = set(regions["finding"])
    return [f for f in vocabulary if f in present]


def explore_labels(
    fix: pd.DataFrame,
    phrases: pd.DataFrame,
    regions: pd.DataFrame,
    vocabulary: Sequence[str],
    params: IntentParams,
) -> list[list[str]]:
    """RadExplore labels: the image's findings not yet reported at each fixation's onset."""
    t_rep = report_times(phrases, regions, vocabulary)
    onset = fix["onset_ms"].to_numpy(float)
    ok = _valid(fix, params)
    return [
        [f for f, t in t_rep.items() if on < t] if v else []
        for on, v in zip(onset, ok, strict=True)
    ]


@labellers.register("radexplore")
def radexplore(fix, phrases, regions, *, vocabulary, margin, params, recording_id):  # type: ignore[no-untyped-def]
    """RadExplore: each finding labels the valid fixations before its report."""
    labels = explore_labels(fix, phrases, regions, vocabulary, params)
    phase = ["explore" if lab else None for lab in labels]
    return _table(fix, recording_id, "radexplore", phase, [None] * len(fix), labels)


@labellers.register("radseq")
def radseq(fix, phrases, regions, *, vocabulary, margin, params, recording_id):  # type: ignore[no-untyped-def]
    """RadSeq: per-finding search subsequences ending on the finding before its report."""
    tgt = seq_assignment(fix, phrases, regions, vocabulary, margin, params)
    phase = ["seq" if t is not None else None for t in tgt]
    labels = [[t] if t is not None else [] for t in tgt]
    return _table(fix, recording_id, "radseq", phase, tgt, labels)


@labellers.register("radhybrid")
def radhybrid(fix, phrases, regions, *, vocabulary, margin, params, recording_id):  # type: ignore[no-untyped-def]
    """RadHybrid: initial broad scan labelled as RadExplore, then RadSeq."""
    tgt = seq_assignment(fix, phrases, regions, vocabulary, margin, params)
    onset = fix["onset_ms"].to_numpy(float)
    end = onset[0] + params.scan_s * 1e3 if len(fix) else -np.inf
    explore = explore_labels(fix, phrases, regions, vocabulary, params)
    phase, target, labels = [], [], []
    for i in range(len(fix)):
        if onset[i] < end:
            lab = explore[i]
            phase.append("explore" if lab else None)
            target.append(None)
            labels.append(lab)
        else:
            t = tgt[i]
            phase.append("seq" if t is not None else None)
            target.append(t)
            labels.append([t] if t is not None else [])
    return _table(fix, recording_id, "radhybrid", phase, target, labels)


# --------------------------------------------------------------------------- API
def label_fixations(
    fixations: pd.DataFrame,
    transcript: pd.DataFrame | None,
    findings: pd.DataFrame | None,
    regime: str = "radseq",
    *,
    geometry: Geometry | None = None,
    params: IntentParams | None = None,
    vocabulary: Sequence[str] = vocab.GAZEINTENT_FINDINGS,
    recording_id: str | None = None,
    corpus: str | None = None,
) -> pd.DataFrame:
    """Label one recording's fixations with diagnostic intention.

    Parameters
    ----------
    fixations : DataFrame
        Events rows (``event == "fixation"`` kept) or any table with
        ``onset_ms, offset_ms, x_px, y_px`` (ms, px in the findings' frame).
    transcript : DataFrame or None
        Transcripts schema; word-level rows are grouped with :func:`phrases_from_words`.
    findings : DataFrame or None
        Findings schema; labels may be GazeIntent, REFLACX or EGD-CXR names.
    regime : str
        A name in :data:`labellers` (``radseq``, ``radexplore``, ``radhybrid``, ...).
    geometry : Geometry, optional
        For the margin in degrees and the image-bounds check.
    params : IntentParams, optional
    vocabulary : sequence of str
        Allowed finding names (GazeIntent's 13 by default).
    recording_id : str, optional
        Defaults to the fixations' ``recording_id`` column.
    corpus : {"reflacx", "egd"}, optional
        Vocabulary of ``findings.label``; tried in turn when omitted.

    Returns
    -------
    DataFrame
        ``intent_labels`` schema, one row per fixation in onset order.

    Raises
    ------
    InputError
        Unknown finding labels, invalid boxes, findings outside the image, transcripts
        on a different clock.
    """
    params = params or IntentParams()
    fn = labellers.get(regime)
    fix = _prepare_fixations(fixations)
    if recording_id is None:
        ids = fix["recording_id"].unique() if "recording_id" in fix else []
        if len(ids) > 1:
            raise InputError("fixations of several recordings: use label_dataset or filter first")
        recording_id = str(ids[0]) if len(ids) else ""
    unknown = [f for f in vocabulary if f not in vocab.GAZEINTENT_FINDINGS]
    if unknown:
        log.info("custom vocabulary names %s never come from findings mapping", unknown)
    regions = _prepare_findings(findings, params, geometry, corpus)
    outside = ~regions["finding"].isin(list(vocabulary))
    if outside.any():
        log.info(
            "findings outside the vocabulary ignored: %s", sorted(set(regions["finding"][outside]))
        )
        regions = regions[~outside].reset_index(drop=True)
    phrases = _phrases(transcript, params)
    _check_times(fix, phrases)
    if phrases.empty and regime in ("radseq", "radhybrid"):
        warnings.warn(
            f"recording {recording_id!r} has no transcript: {regime} finds no dictated "
            "finding, so no fixation gets a RadSeq label",
            IntentWarning,
            stacklevel=2,
        )
    elif phrases.empty and regime == "radexplore":
        log.info("recording %s has no transcript: every finding stays a target", recording_id)
    margin = margin_in_px(geometry, params, fix)
    out = fn(
        fix,
        phrases,
        regions,
        vocabulary=tuple(vocabulary),
        margin=margin,
        params=params,
        recording_id=recording_id,
    )
    bad = {lab for labs in out["labels"] for lab in labs} - set(vocabulary)
    if bad:
        raise GazekitError(
            f"labeller {regime!r} produced labels outside the vocabulary: {sorted(bad)}"
        )
    if out.empty:
        # typed columns (list<string> labels), so an empty result stays a valid table
        out = schemas.get("intent_labels").arrow_schema(list(out.columns)).empty_table().to_pandas()
    return out


def to_multihot(
    df: pd.DataFrame, vocabulary: Sequence[str] = vocab.GAZEINTENT_FINDINGS
) -> np.ndarray:
    """Per-fixation multi-hot matrix.

    Parameters
    ----------
    df : DataFrame
        ``intent_labels`` rows with a ``labels`` column (list of finding names per
        fixation; ``None`` counts as no label).
    vocabulary : sequence of str
        Finding names, in column order (GazeIntent's 13 by default).

    Returns
    -------
    (N, F) ndarray of float32
        ``out[i, j] = 1`` when fixation ``i`` is labelled with ``vocabulary[j]``.

    Raises
    ------
    InputError
        A label is outside the vocabulary (the message names the row).
    """
    col = {f: j for j, f in enumerate(vocabulary)}
    out = np.zeros((len(df), len(vocabulary)), np.float32)
    for i, labs in enumerate(df["labels"]):
        for lab in labs if labs is not None else ():
            if lab not in col:
                raise InputError(
                    f"label {lab!r} (row {i}) is not in the vocabulary", column="labels"
                )
            out[i, col[lab]] = 1.0
    return out


def summarize(df: pd.DataFrame) -> dict[str, object]:
    """Label counts, fraction of labelled fixations and per-finding dwell (ms).

    Parameters
    ----------
    df : DataFrame
        ``intent_labels`` rows: ``onset_ms``, ``offset_ms`` (ms) and ``labels`` (list of
        finding names per fixation).

    Returns
    -------
    dict
        ``fixations`` (int), ``labelled_fraction`` (share of fixations with at least one
        label, NaN for an empty table), ``label_counts`` (finding -> fixations) and
        ``dwell_ms`` (finding -> summed fixation duration, ms), both sorted by name.
    """
    dur = (df["offset_ms"] - df["onset_ms"]).to_numpy(float)
    counts: dict[str, int] = {}
    dwell: dict[str, float] = {}
    for labs, d in zip(df["labels"], dur, strict=True):
        for lab in labs:
            counts[lab] = counts.get(lab, 0) + 1
            dwell[lab] = dwell.get(lab, 0.0) + float(d)
    n = len(df)
    labelled = sum(len(v) > 0 for v in df["labels"])
    return {
        "fixations": n,
        "labelled_fraction": labelled / n if n else math.nan,
        "label_counts": dict(sorted(counts.items())),
        "dwell_ms": dict(sorted(dwell.items())),
    }
