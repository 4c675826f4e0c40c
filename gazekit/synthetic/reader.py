"""The reader model: where a radiologist looks, for how long, and why.

Three strategies (the regimes of RadGazeIntent):

``seq``
    Systematic search down a per-finding checklist. For each finding on the
    reader's checklist the reader visits the anatomy where that finding appears
    (:data:`CHECKLIST`), a few fixations per region, at most ~7 per finding; a
    finding that is present is verified with several long fixations on it.
    Each fixation's aim (``intended``) is the checklist item being searched for.
``explore``
    Uncertainty-driven exploration: the next region is drawn with probability
    growing with its remaining uncertainty and salience and falling with
    distance from the current gaze; findings seen in peripheral vision (by their
    conspicuity) become suspicious and the reader keeps returning to them.
    Explore fixations aim at every finding of the image; returns to a finding at
    that finding.
``hybrid``
    A brief broad scan of the whole chest (explore-like, aimed at every finding),
    then a focused checklist search (seq).

``intended`` is the reader's *aim*; the intent labels of RadGazeIntent's regimes
(nested "until reported" prefixes, search subsequences ending on a present, reported
finding) are derived from it with :func:`gazekit.synthetic.truth.intent_truth`.

Fixation durations are ex-Gaussian (``mu + N(0, sigma) + Exp(tau)``), longer on
findings. The output is the sequence of *intended* targets; the oculomotor model
(:mod:`gazekit.synthetic.oculomotor`) turns it into eye movements.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gazekit.synthetic.findings import Finding
from gazekit.synthetic.phantom import Phantom

STRATEGIES = ("seq", "explore", "hybrid")

_ZONES = tuple(f"{s}_{z}_zone" for z in ("upper", "middle", "lower") for s in ("right", "left"))

#: Checklist: finding -> anatomy regions searched for it (in search order).
CHECKLIST: dict[str, tuple[str, ...]] = {
    "support_devices": ("trachea", "mediastinum", "right_upper_zone"),
    "enlarged_cardiomediastinum": ("trachea", "mediastinum", "right_hilum", "left_hilum"),
    "cardiomegaly": ("heart", "left_lower_zone", "right_lower_zone"),
    "edema": ("right_hilum", "left_hilum", "right_middle_zone", "left_middle_zone"),
    "lung_lesion": _ZONES,
    "consolidation": _ZONES,
    "pneumonia": ("right_lower_zone", "left_lower_zone", "right_middle_zone", "left_middle_zone"),
    "lung_opacity": _ZONES,
    "atelectasis": (
        "right_lower_zone",
        "left_lower_zone",
        "right_hemidiaphragm",
        "left_hemidiaphragm",
    ),
    "pneumothorax": (
        "right_upper_zone",
        "left_upper_zone",
        "right_middle_zone",
        "left_middle_zone",
    ),
    "pleural_effusion": (
        "right_costophrenic_angle",
        "left_costophrenic_angle",
        "right_hemidiaphragm",
        "left_hemidiaphragm",
    ),
    "pleural_other": (
        "right_middle_zone",
        "left_middle_zone",
        "right_upper_zone",
        "left_upper_zone",
    ),
    "fracture": ("right_upper_zone", "left_upper_zone", "right_middle_zone", "left_middle_zone"),
}

#: Most fixations aimed at one checklist item in seq (GazeSearch's per-finding constraint).
MAX_PER_ITEM = 7

#: A radiologist's systematic order (devices, airway, mediastinum, heart, hila, lungs, pleura, bones).
DEFAULT_ORDER: tuple[str, ...] = (
    "support_devices",
    "enlarged_cardiomediastinum",
    "cardiomegaly",
    "edema",
    "lung_lesion",
    "consolidation",
    "pneumonia",
    "lung_opacity",
    "atelectasis",
    "pneumothorax",
    "pleural_effusion",
    "pleural_other",
    "fracture",
)


@dataclass(frozen=True)
class ExGaussian:
    """Ex-Gaussian duration distribution (ms): ``mu + sigma·N(0,1) + Exp(tau)``."""

    mu: float
    sigma: float
    tau: float

    def sample(self, rng: np.random.Generator, n: int, scale: float = 1.0) -> np.ndarray:
        d = self.mu + self.sigma * rng.standard_normal(n) + rng.exponential(self.tau, n)
        return np.clip(d * scale, 60.0, 3000.0)

    @property
    def mean(self) -> float:
        return self.mu + self.tau


@dataclass
class ReaderStyle:
    """A reader's habits, derived deterministically from the reader id.

    Attributes
    ----------
    speed : float
        Multiplies every fixation duration.
    checklist : tuple of str
        The order the reader goes through findings in (seq/hybrid).
    thoroughness : float
        Scales the number of fixations per region/session.
    scan_fixations : int
        Length of the initial broad scan (hybrid).
    """

    reader_id: str
    speed: float = 1.0
    checklist: tuple[str, ...] = DEFAULT_ORDER
    thoroughness: float = 1.0
    scan_fixations: int = 10
    search: ExGaussian = field(default_factory=lambda: ExGaussian(170.0, 35.0, 90.0))
    focus: ExGaussian = field(default_factory=lambda: ExGaussian(230.0, 50.0, 190.0))
    scan: ExGaussian = field(default_factory=lambda: ExGaussian(150.0, 30.0, 70.0))

    @classmethod
    def from_id(cls, reader_id: str) -> ReaderStyle:
        """Deterministic style for ``reader_id`` (stable across processes and platforms)."""
        digest = hashlib.sha256(reader_id.encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        order = list(DEFAULT_ORDER)
        for _ in range(3):  # a few adjacent swaps: personal variants of the systematic order
            i = int(rng.integers(len(order) - 1))
            order[i], order[i + 1] = order[i + 1], order[i]
        return cls(
            reader_id=reader_id,
            speed=float(np.exp(rng.normal(0, 0.12))),
            checklist=tuple(order),
            thoroughness=float(np.exp(rng.normal(0, 0.15))),
            scan_fixations=int(rng.integers(7, 14)),
        )


class _RegionSampler:
    """Draw random points inside anatomy regions (pixel lists precomputed once)."""

    def __init__(self, phantom: Phantom) -> None:
        h, w = phantom.shape
        self.stride = max(1, min(h, w) // 256)
        self.coords: dict[str, np.ndarray] = {}
        for name, m in zip(phantom.names, phantom.masks, strict=True):
            ys, xs = np.nonzero(m[:: self.stride, :: self.stride])
            self.coords[name] = np.column_stack([xs, ys]).astype(np.float64) * self.stride
        self.centroid = {
            n: (c.mean(axis=0) if len(c) else np.array([w / 2, h / 2]))
            for n, c in self.coords.items()
        }
        self.area = {n: float(len(c)) for n, c in self.coords.items()}
        self.masks = dict(zip(phantom.names, phantom.masks, strict=True))
        self.shape = (h, w)

    def region_at(self, xy: np.ndarray) -> str:
        """The smallest region containing ``xy`` (the nearest region centroid if none)."""
        x, y = int(xy[0]), int(xy[1])
        h, w = self.shape
        if 0 <= x < w and 0 <= y < h:
            inside = [n for n, m in self.masks.items() if m[y, x]]
            if inside:
                return min(inside, key=lambda n: self.area[n])
        return min(self.centroid, key=lambda n: float(np.hypot(*(self.centroid[n] - xy))))

    def point(self, region: str, rng: np.random.Generator) -> np.ndarray:
        c = self.coords[region]
        if len(c) == 0:
            return self.centroid[region].copy()
        return c[rng.integers(len(c))] + rng.uniform(0, self.stride, 2)


@dataclass
class Scanpath:
    """Intended fixation targets, in reading order.

    Attributes
    ----------
    x, y : (N,) ndarray of float64, image px
        Intended target of each fixation.
    duration_ms : (N,) ndarray of float64
    target_region : list of str
    intended : list of list of str
        Findings each fixation is aimed at.
    phase : list of str
        ``scan``, ``search``, ``verify``, ``explore``, ``return`` or ``review``.
    finding_index : (N,) ndarray of int64
        Index into the findings list of the finding fixated on, -1 if none.
    """

    x: np.ndarray
    y: np.ndarray
    duration_ms: np.ndarray
    target_region: list[str]
    intended: list[list[str]]
    phase: list[str]
    finding_index: np.ndarray

    def __len__(self) -> int:
        return len(self.x)

    def concat(self, other: Scanpath) -> Scanpath:
        """This scanpath followed by ``other``."""
        return Scanpath(
            np.concatenate([self.x, other.x]),
            np.concatenate([self.y, other.y]),
            np.concatenate([self.duration_ms, other.duration_ms]),
            self.target_region + other.target_region,
            self.intended + other.intended,
            self.phase + other.phase,
            np.concatenate([self.finding_index, other.finding_index]),
        )

    def head(self, n: int) -> Scanpath:
        """The first ``n`` fixations."""
        return Scanpath(
            self.x[:n],
            self.y[:n],
            self.duration_ms[:n],
            self.target_region[:n],
            self.intended[:n],
            self.phase[:n],
            self.finding_index[:n],
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x": self.x,
                "y": self.y,
                "duration_ms": self.duration_ms,
                "target_region": self.target_region,
                "intended": self.intended,
                "phase": self.phase,
                "finding_index": self.finding_index,
            }
        )


class _Builder:
    def __init__(
        self,
        phantom: Phantom,
        findings: list[Finding],
        style: ReaderStyle,
        rng: np.random.Generator,
        ppd: float,
    ) -> None:
        self.ph = phantom
        self.findings = findings
        self.style = style
        self.rng = rng
        self.ppd = ppd
        self.sampler = _RegionSampler(phantom)
        self.rows: list[tuple[float, float, str, tuple[str, ...], str, int, str]] = []
        self.all_labels = tuple(sorted({f.label for f in findings}))
        h, w = phantom.shape
        self.pos = np.array([w / 2.0, h / 2.0])

    # durations are drawn at the end, vectorised per duration class
    def add(
        self,
        xy: np.ndarray,
        region: str,
        intended: tuple[str, ...],
        phase: str,
        fidx: int,
        dclass: str,
    ) -> None:
        self.rows.append((float(xy[0]), float(xy[1]), region, intended, phase, fidx, dclass))
        self.pos = np.asarray(xy, dtype=np.float64)

    def finding_point(self, f: Finding) -> np.ndarray:
        x0, y0, x1, y1 = f.box
        cx, cy = f.center
        for _ in range(10):
            p = np.array([cx, cy]) + self.rng.normal(0, 1, 2) * np.array(
                [(x1 - x0) / 5, (y1 - y0) / 5]
            )
            if f.contains(p[0:1], p[1:2])[0]:
                return p
        return np.array([cx, cy])

    def region_findings(self, region: str, label: str | None = None) -> list[int]:
        return [
            i
            for i, f in enumerate(self.findings)
            if (label is None or f.label == label)
            and (f.region == region or self._in_region(f, region))
        ]

    def _in_region(self, f: Finding, region: str) -> bool:
        cx, cy = f.center
        m = self.ph.mask(region)
        h, w = m.shape
        return bool(m[int(np.clip(cy, 0, h - 1)), int(np.clip(cx, 0, w - 1))])

    # ------------------------------------------------------------- strategies
    def seq(self, fast: bool = False) -> None:
        """Checklist search: per item, search its anatomy, then verify the finding if present.

        At most :data:`MAX_PER_ITEM` fixations are aimed at one checklist item.
        """
        style, rng = self.style, self.rng
        present = {f.label for f in self.findings}
        items = [
            c for c in style.checklist if c in present or rng.random() < 0.75 * style.thoroughness
        ]
        for label in items:
            found = [i for i, f in enumerate(self.findings) if f.label == label]
            budget = int(rng.integers(2, 4 if fast else 7))
            if found:  # leave room to verify what is found
                budget = min(budget, MAX_PER_ITEM - 2 * len(found))
            n_search = 0
            hit = False
            for region in CHECKLIST[label]:
                k = 1 if fast else int(rng.integers(1, 3))
                for _ in range(min(k, budget - n_search)):
                    xy = self.sampler.point(region, rng)
                    self.add(xy, region, (label,), "search", self.finding_at(xy), "search")
                    n_search += 1
                hit = any(
                    self.findings[i].region == region or self._in_region(self.findings[i], region)
                    for i in found
                )
                if hit or n_search >= budget:
                    break
            room = MAX_PER_ITEM - n_search
            for i in found:
                f = self.findings[i]
                n_verify = max(1, min(int(rng.integers(2, 5)), room // len(found)))
                for _ in range(n_verify):
                    self.add(self.finding_point(f), f.region, (label,), "verify", i, "focus")

    def finding_at(self, xy: np.ndarray) -> int:
        """Index of the finding whose shape contains ``xy`` (-1 if none)."""
        for i, f in enumerate(self.findings):
            if f.contains(xy[0:1], xy[1:2])[0]:
                return i
        return -1

    def explore(
        self, n: int, phase: str = "explore", dclass: str = "search", returns: bool = True
    ) -> None:
        """``n`` uncertainty-driven fixations; with ``returns``, revisit suspicious findings."""
        rng, sm = self.rng, self.sampler
        names = [r for r in self.ph.names if sm.area[r] > 0]
        unc = {r: 1.0 for r in names}
        suspicious: dict[int, float] = {}
        sal = np.array([np.sqrt(sm.area[r]) for r in names])
        cent = np.array([sm.centroid[r] for r in names])
        for _ in range(n):
            if suspicious and rng.random() < 0.3:
                keys = list(suspicious)
                wts = np.array([suspicious[k] for k in keys])
                i = keys[int(rng.choice(len(keys), p=wts / wts.sum()))]
                f = self.findings[i]
                suspicious[i] *= 0.6
                for _ in range(int(rng.integers(1, 4))):  # a short dwell on the finding
                    self.add(self.finding_point(f), f.region, (f.label,), "return", i, "focus")
                continue
            d = np.hypot(*(cent - self.pos).T) / self.ppd  # deg
            wts = sal * np.array([unc[r] for r in names]) * np.exp(-d / 8.0)
            j = int(rng.choice(len(names), p=wts / wts.sum()))
            region = names[j]
            unc[region] *= 0.45
            for r in names:  # uncertainty slowly returns to regions not looked at lately
                unc[r] = min(1.0, unc[r] + 0.02)
            xy = sm.point(region, rng)
            fidx = -1
            for i, f in enumerate(self.findings):
                dist_deg = np.hypot(*(np.array(f.center) - xy)) / self.ppd
                # peripheral detection: conspicuous findings are seen from further away
                seen = rng.random() < f.conspicuity * np.exp(-dist_deg / 6.0)
                if f.contains(xy[0:1], xy[1:2])[0]:
                    fidx = i
                    seen = True
                if seen and i not in suspicious and returns:
                    suspicious[i] = 1.0
            self.add(xy, region, self.all_labels, phase, fidx, dclass)
        for i in suspicious:  # every suspicious finding is looked at before moving on
            if not any(r[5] == i and r[4] == "return" for r in self.rows):
                f = self.findings[i]
                self.add(self.finding_point(f), f.region, (f.label,), "return", i, "focus")

    def durations(self) -> np.ndarray:
        classes = np.array([r[6] for r in self.rows])
        d = np.empty(len(classes))
        for name in ("search", "focus", "scan"):
            sel = classes == name
            dist = getattr(self.style, name)
            d[sel] = dist.sample(self.rng, int(sel.sum()), self.style.speed)
        return np.round(d)

    def result(self) -> Scanpath:
        rows = self.rows
        return Scanpath(
            x=np.array([r[0] for r in rows]),
            y=np.array([r[1] for r in rows]),
            duration_ms=self.durations(),
            target_region=[r[2] for r in rows],
            intended=[list(r[3]) for r in rows],
            phase=[r[4] for r in rows],
            finding_index=np.array([r[5] for r in rows], dtype=np.int64),
        )


def read_image(
    phantom: Phantom,
    findings: list[Finding],
    strategy: str,
    rng: np.random.Generator,
    px_per_deg: float,
    style: ReaderStyle | None = None,
    min_duration_s: float | None = None,
    start_xy: tuple[float, float] | None = None,
) -> Scanpath:
    """Generate the reader's intended scanpath over ``phantom``.

    Parameters
    ----------
    phantom : Phantom
    findings : list of Finding
    strategy : {"seq", "explore", "hybrid"}
    rng : numpy.random.Generator
    px_per_deg : float
        Image pixels per visual degree (sets how far the reader's "next region"
        preference and peripheral detection reach).
    style : ReaderStyle, optional
    min_duration_s : float, optional
        Keep reading (exploring, phase ``review``) until the summed fixation time
        reaches this many seconds; used for long benchmark sessions.
    start_xy : (x, y), optional
        Where the gaze is when the reading starts (default: image centre).

    Returns
    -------
    Scanpath
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    style = style or ReaderStyle("reader")
    b = _Builder(phantom, findings, style, rng, px_per_deg)
    if start_xy is not None:
        b.pos = np.asarray(start_xy, dtype=np.float64)
    # an orienting first fixation where the gaze already is (image centre by default)
    first = b.pos + rng.normal(0, 0.3 * px_per_deg, 2)
    b.add(first, b.sampler.region_at(first), b.all_labels, "scan", -1, "scan")
    if strategy == "seq":
        b.seq()
    elif strategy == "explore":
        n = int(np.clip(rng.normal(45, 10) * style.thoroughness, 20, 90))
        b.explore(n)
    else:
        b.explore(style.scan_fixations, phase="scan", dclass="scan", returns=False)
        b.seq(fast=True)
    sp = b.result()
    if min_duration_s is not None and sp.duration_ms.sum() < min_duration_s * 1000.0:
        rest = min_duration_s - sp.duration_ms.sum() / 1000.0
        sp = sp.concat(
            review(phantom, findings, rng, px_per_deg, style, rest, (sp.x[-1], sp.y[-1]))
        )
    return sp


def review(
    phantom: Phantom,
    findings: list[Finding],
    rng: np.random.Generator,
    px_per_deg: float,
    style: ReaderStyle,
    duration_s: float,
    start_xy: tuple[float, float],
) -> Scanpath:
    """Review fixations (phase ``review``, no intended finding) lasting ``duration_s`` in total.

    What the reader's eyes do while dictating or lingering after the search: an
    exploration without returns to findings, cut at the fixation that reaches the
    requested duration.
    """
    parts: list[Scanpath] = []
    total = 0.0
    pos = np.asarray(start_xy, dtype=np.float64)
    while total < duration_s * 1000.0:
        need = int((duration_s * 1000.0 - total) / (style.search.mean * style.speed) * 1.1) + 1
        b = _Builder(phantom, findings, style, rng, px_per_deg)
        b.pos = pos
        b.explore(need, phase="review", returns=False)
        part = b.result()
        part.intended = [[] for _ in range(len(part))]
        parts.append(part)
        total += float(part.duration_ms.sum())
        pos = np.array([part.x[-1], part.y[-1]])
    sp = parts[0]
    for part in parts[1:]:
        sp = sp.concat(part)
    cum = np.cumsum(sp.duration_ms)
    return sp.head(int(np.searchsorted(cum, duration_s * 1000.0)) + 1)
