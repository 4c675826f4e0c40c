"""Findings placed in the phantom's anatomy and rendered into the image.

Each finding has a GazeIntent label (:data:`gazekit.vocab.GAZEINTENT_FINDINGS`),
the anatomy region it lies in, a box (image px) and a shape (``ellipse`` inscribed
in the box, or ``box``), and is drawn into the radiograph so it is visible:
nodules as round dense blobs, consolidation/pneumonia as patchy airspace density,
effusion as a meniscus at the base, pneumothorax as a dark marking-free rim with a
pleural edge, atelectasis as a plate-like band, edema as perihilar haze with
septal lines, cardiomegaly and a widened mediastinum by changing the anatomy
itself (see :class:`~gazekit.synthetic.phantom.AnatomyParams`), devices as bright
tubes, fractures as a rib step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd

from gazekit.synthetic.phantom import AnatomyParams, Phantom, _smooth_noise
from gazekit.vocab import GAZEINTENT_FINDINGS

#: Findings the phantom can render, with a relative prevalence used when drawing labels.
PREVALENCE: dict[str, float] = {
    "pleural_effusion": 1.0,
    "pleural_other": 0.3,
    "pneumonia": 0.6,
    "fracture": 0.3,
    "consolidation": 0.8,
    "pneumothorax": 0.5,
    "lung_lesion": 1.0,
    "edema": 0.6,
    "enlarged_cardiomediastinum": 0.4,
    "atelectasis": 0.8,
    "support_devices": 0.5,
    "lung_opacity": 0.8,
    "cardiomegaly": 0.8,
}
assert set(PREVALENCE) == set(GAZEINTENT_FINDINGS)

log = logging.getLogger(__name__)

#: Findings that change the anatomy (rendered through AnatomyParams).
ANATOMIC = ("cardiomegaly", "enlarged_cardiomediastinum")


@dataclass
class Finding:
    """One finding on the image.

    Attributes
    ----------
    label : str
        GazeIntent finding name.
    region : str
        Anatomy region (``gazekit.anatomy.regions``) the finding lies in.
    box : (xmin, ymin, xmax, ymax), image px
    shape : str
        ``"ellipse"`` (inscribed in the box) or ``"box"``.
    side : str or None
        Patient's side (``"right"`` = image left), ``None`` if midline/bilateral.
    severity : str
        ``"small"``, ``"moderate"`` or ``"large"`` (used in dictation).
    conspicuity : float
        0..1, how easily the finding is seen in peripheral vision.
    """

    label: str
    region: str
    box: tuple[float, float, float, float]
    shape: str
    side: str | None
    severity: str
    conspicuity: float

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0

    def contains(self, x: np.ndarray, y: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Whether points (image px) lie in the finding's shape grown by ``margin`` px."""
        x0, y0, x1, y1 = self.box
        cx, cy = self.center
        a = (x1 - x0) / 2.0 + margin
        b = (y1 - y0) / 2.0 + margin
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.shape == "box":
            return (np.abs(x - cx) <= a) & (np.abs(y - cy) <= b)
        return ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1.0


def choose_labels(rng: np.random.Generator, n: int | None = None) -> list[str]:
    """Draw ``n`` distinct finding labels (0–4 when ``n`` is None; ~20 % normal images)."""
    if n is None:
        n = int(rng.choice([0, 1, 2, 3, 4], p=[0.2, 0.3, 0.25, 0.15, 0.1]))
    if not 0 <= n <= len(PREVALENCE):
        raise ValueError(f"n_findings must be 0..{len(PREVALENCE)}, got {n}")
    labels = list(PREVALENCE)
    p = np.array([PREVALENCE[k] for k in labels])
    picked = rng.choice(len(labels), size=n, replace=False, p=p / p.sum())
    # keep vocabulary order so the same seed always renders in the same order
    return [labels[i] for i in sorted(picked)]


def anatomy_for(
    labels: list[str], params: AnatomyParams, rng: np.random.Generator
) -> AnatomyParams:
    """Apply anatomy-changing findings (cardiomegaly, widened mediastinum) to ``params``."""
    if "cardiomegaly" in labels:
        params.heart_scale = float(rng.uniform(1.35, 1.55))
        params.heart_cx += 0.01
    if "enlarged_cardiomediastinum" in labels:
        params.mediastinum_scale = float(rng.uniform(1.6, 2.0))
    return params


class _NoRoom(Exception):
    """A finding does not fit in the (too small) image; it is left out."""


def _bbox(mask: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise _NoRoom
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def _pick_point(
    mask: np.ndarray, rng: np.random.Generator, min_depth: float
) -> tuple[float, float] | None:
    """A random pixel of ``mask`` at least ``min_depth`` px from its border."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    ys, xs = np.nonzero(dist >= min_depth)
    if len(xs) == 0:
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return None
    i = rng.integers(len(xs))
    return float(xs[i]), float(ys[i])


def _blob(
    h: int, w: int, cx: float, cy: float, ax: float, ay: float, angle: float = 0.0
) -> np.ndarray:
    """Soft-edged filled ellipse, (h, w) float32 0..1."""
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    du, dv = u - cx, v - cy
    c, s = np.cos(angle), np.sin(angle)
    r = np.sqrt(((du * c + dv * s) / ax) ** 2 + ((-du * s + dv * c) / ay) ** 2)
    return np.clip(1.25 - r, 0, 1).astype(np.float32) ** 0.7


def _side_of(region: str) -> str | None:
    return region.split("_")[0] if region.split("_")[0] in ("right", "left") else None


def place_and_render(
    phantom: Phantom, labels: list[str], rng: np.random.Generator
) -> tuple[np.ndarray, list[Finding]]:
    """Place findings with ``labels`` in ``phantom``'s anatomy and draw them.

    Parameters
    ----------
    phantom : Phantom
        Rendered with :func:`anatomy_for` already applied for anatomic findings.
    labels : list of str
        GazeIntent finding names (distinct).
    rng : numpy.random.Generator

    Returns
    -------
    image : (H, W) ndarray of float32
        The phantom image with findings drawn in.
    findings : list of Finding
    """
    img = phantom.image.copy()
    h, w = img.shape
    sc = w / 1024.0
    out: list[Finding] = []
    lungs = phantom.mask("right_lung") | phantom.mask("left_lung")
    for label in labels:
        try:
            side = str(rng.choice(["right", "left"]))
            lung = phantom.mask(f"{side}_lung")
            sev = str(rng.choice(["small", "moderate", "large"], p=[0.45, 0.4, 0.15]))
            k = {"small": 0.0, "moderate": 0.5, "large": 1.0}[sev]
            if label == "lung_lesion":
                zone = f"{side}_{rng.choice(['upper', 'middle', 'lower'])}_zone"
                r = (9 + 14 * k + rng.uniform(0, 4)) * sc
                pt = _pick_point(phantom.mask(zone), rng, r * 1.5)
                if pt is None:
                    continue
                cx, cy = pt
                img += 0.36 * _blob(h, w, cx, cy, r, r * rng.uniform(0.85, 1.0))
                f = Finding(
                    label,
                    zone,
                    (cx - r, cy - r, cx + r, cy + r),
                    "ellipse",
                    side,
                    sev,
                    0.5 + 0.4 * k,
                )
            elif label in ("consolidation", "pneumonia", "lung_opacity"):
                zone = (
                    f"{side}_{rng.choice(['middle', 'lower', 'upper'], p=[0.4, 0.45, 0.15])}_zone"
                )
                zm = phantom.mask(zone)
                ax = (45 + 50 * k) * sc
                ay = ax * rng.uniform(0.6, 0.9)
                pt = _pick_point(zm, rng, ay * 0.6)
                if pt is None:
                    continue
                cx, cy = pt
                patch = _blob(h, w, cx, cy, ax, ay, rng.uniform(-0.4, 0.4))
                tex = np.clip(0.75 + 0.35 * _smooth_noise(rng, h, w, 0.012), 0, 1)
                dens = 0.20 if label == "lung_opacity" else 0.38
                region = (patch * tex) * lung
                img += dens * region
                f = Finding(label, zone, _bbox(region > 0.15), "ellipse", side, sev, 0.45 + 0.4 * k)
            elif label == "pleural_effusion":
                cp = phantom.mask(f"{side}_costophrenic_angle")
                rows = np.flatnonzero(lung.any(axis=1))
                top, bot = rows[0], rows[-1]
                level = bot - (0.10 + 0.22 * k) * (bot - top)
                xs = np.nonzero(lung)[1]
                lateral = xs.min() if side == "right" else xs.max()
                v, u = np.mgrid[0:h, 0:w].astype(np.float32)
                # meniscus: fluid climbs the lateral wall
                climb = 0.12 * (bot - top) * np.exp(-np.abs(u - lateral) / (0.06 * w))
                fluid = (v > level - climb) & lung
                soft = cv2.GaussianBlur(fluid.astype(np.float32), (0, 0), 6 * sc)
                img += 0.42 * soft * lung
                region = f"{side}_costophrenic_angle" if cp.any() else f"{side}_lower_zone"
                f = Finding(label, region, _bbox(fluid), "box", side, sev, 0.6 + 0.3 * k)
            elif label == "pneumothorax":
                dist = cv2.distanceTransform(lung.astype(np.uint8), cv2.DIST_L2, 3)
                rows = np.flatnonzero(lung.any(axis=1))
                top, bot = rows[0], rows[-1]
                depth = (18 + 30 * k) * sc
                v = np.arange(h)[:, None]
                reach = top + (0.35 + 0.3 * k) * (bot - top)
                rim = (dist > 0) & (dist < depth) & (v < reach)
                img = np.where(rim, 0.12 + 0.01 * rng.standard_normal(img.shape), img).astype(
                    np.float32
                )
                edge = (np.abs(dist - depth) < 1.5 * sc + 0.5) & (v < reach)
                img += 0.18 * cv2.GaussianBlur(edge.astype(np.float32), (0, 0), 0.8 * sc + 0.3)
                f = Finding(
                    label, f"{side}_upper_zone", _bbox(rim), "box", side, sev, 0.35 + 0.3 * k
                )
            elif label == "atelectasis":
                zone = f"{side}_lower_zone"
                pt = _pick_point(phantom.mask(zone), rng, 12 * sc)
                if pt is None:
                    continue
                cx, cy = pt
                ax, ay = (55 + 30 * k) * sc, (6 + 5 * k) * sc
                band = _blob(h, w, cx, cy, ax, ay, rng.uniform(-0.35, 0.1)) * lung
                img += 0.3 * band
                f = Finding(label, zone, _bbox(band > 0.1), "ellipse", side, sev, 0.4 + 0.3 * k)
            elif label == "edema":
                haze = np.zeros_like(img)
                for s_ in ("right", "left"):
                    hx, hy = phantom.landmarks[f"{s_}_hilum"]
                    haze += _blob(h, w, hx, hy, (110 + 40 * k) * sc, (150 + 40 * k) * sc)
                haze = np.clip(haze, 0, 1) * lungs
                img += 0.16 * haze * np.clip(0.7 + 0.4 * _smooth_noise(rng, h, w, 0.02), 0, 1.4)
                for s_ in ("right", "left"):  # Kerley B lines at the lateral bases
                    tx, ty = phantom.landmarks[f"{s_}_costophrenic_tip"]
                    sgn = 1 if s_ == "right" else -1
                    for i in range(5):
                        y0 = ty - (40 + 18 * i) * sc
                        x0 = tx + sgn * 2 * sc
                        x1 = x0 + sgn * (16 + 6 * rng.random()) * sc
                        cv2.line(
                            img,
                            (round(x0), round(y0)),
                            (round(x1), round(y0)),
                            float(img[int(y0), int(x0)] + 0.15),
                            max(1, round(1.5 * sc)),
                            cv2.LINE_AA,
                        )
                f = Finding(
                    label, "right_hilum", _bbox(haze > 0.2), "box", None, sev, 0.5 + 0.3 * k
                )
            elif label == "cardiomegaly":
                f = Finding(label, "heart", _bbox(phantom.mask("heart")), "box", None, sev, 0.8)
            elif label == "enlarged_cardiomediastinum":
                med = phantom.mask("mediastinum") & (
                    np.arange(h)[:, None] < phantom.landmarks["carina"][1] + 0.1 * h
                )
                f = Finding(label, "mediastinum", _bbox(med), "box", None, sev, 0.6)
            elif label == "support_devices":
                # endotracheal tube down the trachea and a right-sided central line
                cx = phantom.landmarks["carina"][0]
                tip = phantom.landmarks["carina"][1] - 0.05 * h
                dev = np.zeros_like(img)
                cv2.line(
                    dev,
                    (round(cx - 3 * sc), 0),
                    (round(cx - 3 * sc), round(tip)),
                    1.0,
                    max(1, round(3 * sc)),
                    cv2.LINE_AA,
                )
                pts = np.array(
                    [
                        [0.28 * w, 0.12 * h],
                        [0.40 * w, 0.17 * h],
                        [0.465 * w, 0.24 * h],
                        [0.47 * w, 0.36 * h],
                    ],
                    np.int32,
                )
                cv2.polylines(dev, [pts], False, 1.0, max(1, round(2 * sc)), cv2.LINE_AA)
                img += 0.35 * dev
                f = Finding(label, "trachea", _bbox(dev > 0.2), "box", None, sev, 0.9)
            elif label == "fracture":
                zone = f"{side}_{rng.choice(['upper', 'middle'])}_zone"
                zm = phantom.mask(zone)
                ys, xs = np.nonzero(zm)
                lateral = xs.min() if side == "right" else xs.max()
                sel = np.abs(xs - lateral) < 0.05 * w
                i = rng.choice(np.flatnonzero(sel)) if sel.any() else rng.integers(len(xs))
                cx, cy = float(xs[i]), float(ys[i])
                r = 10 * sc
                cv2.line(
                    img,
                    (round(cx - r), round(cy - 2 * r)),
                    (round(cx + r), round(cy + 2 * r)),
                    0.15,
                    max(1, round(2 * sc)),
                    cv2.LINE_AA,
                )
                img += 0.18 * _blob(h, w, cx, cy, 1.6 * r, 1.2 * r)
                f = Finding(
                    label,
                    zone,
                    (cx - 2 * r, cy - 2 * r, cx + 2 * r, cy + 2 * r),
                    "ellipse",
                    side,
                    sev,
                    0.25,
                )
            elif label == "pleural_other":
                dist = cv2.distanceTransform(lung.astype(np.uint8), cv2.DIST_L2, 3)
                zone = f"{side}_middle_zone"
                zm = phantom.mask(zone)
                band = zm & (dist < (6 + 6 * k) * sc)
                xs = np.nonzero(zm)[1]
                lateral = xs.min() if side == "right" else xs.max()
                band &= np.abs(np.arange(w)[None, :] - lateral) < 0.08 * w
                img += 0.35 * cv2.GaussianBlur(band.astype(np.float32), (0, 0), 2 * sc)
                f = Finding(label, zone, _bbox(band), "box", side, sev, 0.3)
            else:  # pragma: no cover - PREVALENCE covers the vocabulary
                raise ValueError(f"cannot render finding {label!r}")
        except _NoRoom:
            log.info("finding %s does not fit in a %dx%d phantom; left out", label, h, w)
            continue
        out.append(f)
    return np.clip(img, 0, 1).astype(np.float32), out


def findings_frame(
    findings: list[Finding], recording_id: str, certainty: np.ndarray | None = None
) -> pd.DataFrame:
    """The ``findings`` table rows for ``findings`` (boxes in image px)."""
    n = len(findings)
    return pd.DataFrame(
        {
            "recording_id": [recording_id] * n,
            "finding_id": np.arange(n, dtype=np.int64),
            "label": [f.label for f in findings],
            "shape": [f.shape for f in findings],
            "xmin": [f.box[0] for f in findings],
            "ymin": [f.box[1] for f in findings],
            "xmax": [f.box[2] for f in findings],
            "ymax": [f.box[3] for f in findings],
            "certainty": (np.full(n, 5.0) if certainty is None else np.asarray(certainty, float)),
        }
    )
