"""A phantom postero-anterior chest radiograph with its anatomy label masks.

The phantom is drawn in normalised coordinates ``u = x / W``, ``v = y / H`` (origin
top-left), so the same seed gives the same anatomy at any size. Brightness is
attenuation (bone and soft tissue bright, lung and air dark), as on a displayed
radiograph. Patient's right is image left (:mod:`gazekit.anatomy.regions`).

Shapes are jittered per seed (lung height, heart size and position, diaphragm
heights, rib spacing), lungs get a vascular tree radiating from the hila, ribs and
clavicles are bands with brighter cortices, and the whole image is blurred and
given quantum noise. Anatomy changes caused by findings (cardiomegaly, widened
mediastinum) are applied here, so masks always match the image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from gazekit.anatomy.regions import REGIONS

log = logging.getLogger(__name__)


@dataclass
class AnatomyParams:
    """Per-image shape parameters (normalised units, fractions of width/height)."""

    heart_scale: float = 1.0
    mediastinum_scale: float = 1.0
    lung_bottom_right: float = 0.70  # image-left lung (patient's right) dome height
    lung_bottom_left: float = 0.73
    apex: float = 0.13
    heart_cx: float = 0.545
    heart_cy: float = 0.60
    rib_spacing: float = 0.062
    body_half_width: float = 0.44
    extra: dict[str, float] = field(default_factory=dict)

    @classmethod
    def random(cls, rng: np.random.Generator) -> AnatomyParams:
        """Normal anatomical variation."""
        bottom = rng.normal(0.71, 0.015)
        return cls(
            heart_scale=float(rng.normal(1.0, 0.04)),
            mediastinum_scale=float(rng.normal(1.0, 0.05)),
            lung_bottom_right=float(bottom),
            lung_bottom_left=float(bottom + rng.normal(0.025, 0.008)),
            apex=float(rng.normal(0.13, 0.008)),
            heart_cx=float(rng.normal(0.545, 0.008)),
            heart_cy=float(rng.normal(0.60, 0.01)),
            rib_spacing=float(rng.normal(0.062, 0.003)),
            body_half_width=float(rng.normal(0.44, 0.01)),
        )


@dataclass
class Phantom:
    """A rendered phantom radiograph.

    Attributes
    ----------
    image : (H, W) ndarray of float32, 0..1
    masks : (R, H, W) ndarray of bool
        One mask per name in ``names`` (regions of :data:`gazekit.anatomy.regions.REGIONS`).
    names : tuple of str
    params : AnatomyParams
    landmarks : dict of str -> (x, y) image px
        Hilum centres, costophrenic angle tips, carina, lung apices.
    """

    image: np.ndarray
    masks: np.ndarray
    names: tuple[str, ...]
    params: AnatomyParams
    landmarks: dict[str, tuple[float, float]]

    def mask(self, name: str) -> np.ndarray:
        """The (H, W) bool mask of region ``name``."""
        return self.masks[self.names.index(name)]

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape  # type: ignore[return-value]


def _closed_curve(points: np.ndarray, n: int = 200) -> np.ndarray:
    """Smooth closed curve through control ``points`` (Catmull-Rom), (n, 2)."""
    p = np.asarray(points, dtype=np.float64)
    m = len(p)
    per = n // m + 1
    t = np.linspace(0, 1, per, endpoint=False)[:, None]
    out = []
    for i in range(m):
        p0, p1, p2, p3 = p[(i - 1) % m], p[i], p[(i + 1) % m], p[(i + 2) % m]
        out.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
            )
        )
    return np.concatenate(out)


def _fill(curve_uv: np.ndarray, h: int, w: int) -> np.ndarray:
    """Rasterise a closed curve in normalised coordinates into an (h, w) bool mask."""
    pts = np.round(curve_uv * np.array([w, h]) * 16).astype(np.int32)
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [pts], 1, lineType=cv2.LINE_8, shift=4)
    return m.astype(bool)


def _lung_outline(p: AnatomyParams, rng: np.random.Generator, side: str) -> np.ndarray:
    """Control points of one lung (image-left lung = patient's right), normalised."""
    j = rng.normal(0, 0.005, size=(10, 2))
    if side == "right":  # image left
        b = p.lung_bottom_right
        pts = np.array(
            [
                [0.345, p.apex],
                [0.42, p.apex + 0.07],
                [0.445, 0.35],
                [0.445, b - 0.08],
                [0.43, b - 0.01],
                [0.35, b - 0.045],
                [0.25, b - 0.02],
                [0.175, b + 0.05],
                [0.145, 0.45],
                [0.19, p.apex + 0.08],
            ]
        )
    else:
        b = p.lung_bottom_left
        pts = np.array(
            [
                [0.655, p.apex + 0.005],
                [0.81, p.apex + 0.085],
                [0.855, 0.45],
                [0.825, b + 0.05],
                [0.75, b - 0.02],
                [0.65, b - 0.04],
                [0.58, b - 0.02],
                [0.56, 0.45],
                [0.555, 0.30],
                [0.58, p.apex + 0.07],
            ]
        )
    return _closed_curve(pts + j)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    return (u + 0.5) / w, (v + 0.5) / h


def _smooth_noise(rng: np.random.Generator, h: int, w: int, sigma_frac: float) -> np.ndarray:
    """Zero-mean, unit-std Gaussian-filtered noise with correlation length ``sigma_frac * w``.

    Drawn on a grid coarse enough that the blur kernel stays small, then resized, so
    the cost does not grow with the correlation length.
    """
    s = max(sigma_frac * w, 0.5)
    f = max(1, int(s // 3))
    hs, ws = -(-h // f) + 1, -(-w // f) + 1
    n = rng.standard_normal((hs, ws)).astype(np.float32)
    n = cv2.GaussianBlur(n, (0, 0), s / f)
    if f > 1:
        n = cv2.resize(n, (ws * f, hs * f), interpolation=cv2.INTER_CUBIC)
    n = np.ascontiguousarray(n[:h, :w])
    return n / (n.std() + 1e-9)


def _vessels(
    rng: np.random.Generator, h: int, w: int, hila: list[tuple[float, float]], n: int
) -> np.ndarray:
    """Branching vascular markings radiating from the hila, (h, w) float32 0..1."""
    img = np.zeros((h, w), np.float32)
    scale = w / 1024.0
    for hx, hy in hila:
        side = -1.0 if hx < 0.5 else 1.0
        for _ in range(n):
            ang = rng.uniform(-1.35, 1.35) if side > 0 else rng.uniform(np.pi - 1.35, np.pi + 1.35)
            x, y = hx * w, hy * h
            length = rng.uniform(0.05, 0.12) * w
            width = rng.uniform(3.0, 6.0) * scale
            inten = rng.uniform(0.6, 1.0)
            for _gen in range(4):
                x2 = x + np.cos(ang) * length
                y2 = y + np.sin(ang) * length
                th = max(1, round(width))
                cv2.line(img, (round(x), round(y)), (round(x2), round(y2)), inten, th, cv2.LINE_AA)
                x, y = x2, y2
                ang += rng.normal(0, 0.35)
                length *= 0.7
                width *= 0.65
                inten *= 0.75
    return cv2.GaussianBlur(img, (0, 0), max(1.0, 1.5 * scale))


def _band(dist: np.ndarray, half: float) -> np.ndarray:
    """Soft band profile: 1 inside ``|dist| < half``, smooth edges, bright cortex rim."""
    a = np.abs(dist) / half
    body = np.clip(1.4 - a, 0, 1) ** 0.5
    rim = np.exp(-((a - 0.95) ** 2) / 0.02)
    return np.where(a < 1.4, 0.6 * body + 0.5 * rim, 0).astype(np.float32)


def _ribs(u: np.ndarray, v: np.ndarray, p: AnatomyParams, rng: np.random.Generator) -> np.ndarray:
    """Posterior ribs (curving down and out from the spine) and fainter anterior ribs."""
    out = np.zeros_like(u)
    d = np.abs(u - 0.5)
    for k in range(10):
        v0 = 0.10 + k * p.rib_spacing + rng.normal(0, 0.004)
        half = 0.011 + 0.0008 * k
        # posterior rib: leaves the spine almost level, then arcs down laterally
        dd = np.clip(d - 0.03, 0, None)
        curve = v0 - 0.08 * dd + 1.1 * dd**2
        lat = np.clip((0.40 - d) / 0.03, 0, 1) * np.clip((d - 0.035) / 0.02, 0, 1)
        out += 0.42 * _band(v - curve, half) * lat
        # anterior rib: descends medially from the lateral wall, fading at the cartilage
        va = v0 + 0.09 + 0.45 * np.clip(0.40 - d, 0, None)
        lat_a = np.clip((0.40 - d) / 0.04, 0, 1) * np.clip((d - 0.17) / 0.06, 0, 1)
        out += 0.15 * _band(v - va, half * 0.9) * lat_a
    return out


def _clavicles(u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros_like(u)
    for side in (-1, 1):
        x0, y0 = 0.5 + side * 0.045, 0.165 + rng.normal(0, 0.004)
        x1, y1 = 0.5 + side * 0.30, 0.105 + rng.normal(0, 0.006)
        t = np.clip(
            ((u - x0) * (x1 - x0) + (v - y0) * (y1 - y0)) / ((x1 - x0) ** 2 + (y1 - y0) ** 2), 0, 1
        )
        cy = y0 + t * (y1 - y0) - 0.02 * np.sin(np.pi * t) + 0.008 * np.sin(2 * np.pi * t)
        cx = x0 + t * (x1 - x0)
        dist = np.hypot(u - cx, v - cy)
        out += 0.7 * _band(dist, 0.012 - 0.004 * t)
    return out


def make_phantom(
    size: int | tuple[int, int] = 1024,
    rng: np.random.Generator | None = None,
    params: AnatomyParams | None = None,
) -> Phantom:
    """Render a phantom chest radiograph and its anatomy masks.

    Parameters
    ----------
    size : int or (H, W)
        Image size in pixels (default 1024 × 1024).
    rng : numpy.random.Generator
        Source of all randomness (anatomical variation, texture, noise).
    params : AnatomyParams, optional
        Shape parameters; drawn from ``rng`` when omitted.

    Returns
    -------
    Phantom
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    h, w = (size, size) if isinstance(size, int) else size
    if h < 64 or w < 64:
        raise ValueError(f"phantom size must be at least 64 px, got {h}x{w}")
    p = params or AnatomyParams.random(rng)
    u, v = _grid(h, w)

    # ---- shapes (bool masks)
    # body outline: neck, rounded shoulders, chest wall, slightly narrower abdomen
    hw = (p.body_half_width + 0.05 * np.exp(-(((v - 0.16) / 0.08) ** 2))) * np.sqrt(
        np.clip((v - 0.03) / 0.07, 0, 1)
    )
    hw *= 1 - 0.12 * np.clip((v - 0.7) / 0.3, 0, 1) ** 2
    body = (np.abs(u - 0.5) < hw) | ((np.abs(u - 0.5) < 0.09) & (v < 0.2))
    lung_r = _fill(_lung_outline(p, rng, "right"), h, w)
    lung_l = _fill(_lung_outline(p, rng, "left"), h, w)
    hs = p.heart_scale
    hx, hy = p.heart_cx, p.heart_cy
    ang = np.deg2rad(-25)
    du, dv = u - hx, v - hy
    ru = du * np.cos(ang) - dv * np.sin(ang)
    rv = du * np.sin(ang) + dv * np.cos(ang)
    heart = (ru / (0.145 * hs)) ** 2 + (rv / (0.105 * hs)) ** 2 < 1
    heart &= v < max(p.lung_bottom_left, p.lung_bottom_right) + 0.03
    mw = 0.055 * p.mediastinum_scale
    knob = ((u - (0.5 + mw + 0.012)) / 0.03) ** 2 + ((v - 0.29) / 0.035) ** 2 < 1
    mediastinum = ((np.abs(u - 0.5) < mw) & (v > 0.10) & (v < hy)) | knob
    mediastinum &= ~heart
    trachea = (np.abs(u - 0.5 + 0.004 * (v - 0.1) / 0.2) < 0.017) & (v > 0.02) & (v < 0.33)
    # lungs exclude heart and mediastinum
    lung_r &= ~heart & ~mediastinum & (u < 0.5)
    lung_l &= ~heart & ~mediastinum & (u > 0.5)

    # diaphragm domes: lower lung edge per column
    def _dome(lung: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cols = np.flatnonzero(lung.any(axis=0))
        bottom = h - 1 - np.argmax(lung[::-1, cols], axis=0)
        return cols, bottom

    hemi = {}
    for name, lung in (("right", lung_r), ("left", lung_l)):
        cols, bottom = _dome(lung)
        m = np.zeros((h, w), bool)
        th = max(2, round(0.018 * h))
        rows = np.arange(h)[:, None]
        m[:, cols] = (rows >= bottom[None, :] - th // 3) & (rows <= bottom[None, :] + th)
        hemi[name] = m & ~heart
    # abdomen below the diaphragm line (interpolated under the heart)
    cols_r, bot_r = _dome(lung_r)
    cols_l, bot_l = _dome(lung_l)
    cols = np.concatenate([cols_r, cols_l])
    bots = np.concatenate([bot_r, bot_l]).astype(np.float64)
    line = np.interp(np.arange(w), cols, bots)
    # lateral to each costophrenic angle the diaphragm meets the chest wall at the angle
    for lung, lateral_side in ((lung_r, "right"), (lung_l, "left")):
        ys, xs = np.nonzero(lung)
        edge = xs.min() if lateral_side == "right" else xs.max()
        near = np.abs(xs - edge) < 0.25 * (xs.max() - xs.min())
        tip_x, tip_y = xs[near][np.argmax(ys[near])], ys[near].max()
        outer = np.arange(w) < tip_x if lateral_side == "right" else np.arange(w) > tip_x
        line[outer] = tip_y
    abdomen = np.arange(h)[:, None] > line[None, :]
    abdomen &= body

    # zones, costophrenic angles, hila
    masks: dict[str, np.ndarray] = {}
    landmarks: dict[str, tuple[float, float]] = {}
    for side, lung in (("right", lung_r), ("left", lung_l)):
        rows = np.flatnonzero(lung.any(axis=1))
        top, bot = rows[0], rows[-1]
        c1 = top + (bot - top) / 3
        c2 = top + 2 * (bot - top) / 3
        rr = np.arange(h)[:, None]
        masks[f"{side}_lung"] = lung
        masks[f"{side}_upper_zone"] = lung & (rr < c1)
        masks[f"{side}_middle_zone"] = lung & (rr >= c1) & (rr < c2)
        masks[f"{side}_lower_zone"] = lung & (rr >= c2)
        ys, xs = np.nonzero(lung)
        lateral = xs.min() if side == "right" else xs.max()
        # costophrenic tip: lowest lung pixel among the lateral quarter
        quarter = np.abs(xs - lateral) < 0.25 * (xs.max() - xs.min())
        i = np.argmax(ys + 1e-3 * np.where(quarter, 0, -1e6))
        tip = (float(xs[i]), float(ys[i]))
        landmarks[f"{side}_costophrenic_tip"] = tip
        landmarks[f"{side}_apex"] = (float(xs[np.argmin(ys)]), float(ys.min()))
        r = 0.075 * w
        masks[f"{side}_costophrenic_angle"] = lung & (
            (u * w - tip[0]) ** 2 + (v * h - tip[1]) ** 2 < r**2
        )
        hxc = 0.5 + (-1 if side == "right" else 1) * (mw + 0.05)
        hyc = 0.40 + (0.0 if side == "right" else -0.012)
        landmarks[f"{side}_hilum"] = (hxc * w, hyc * h)
        hil = ((u - hxc) / 0.05) ** 2 + ((v - hyc) / 0.065) ** 2 < 1
        masks[f"{side}_hilum"] = hil & (lung | mediastinum)
        masks[f"{side}_hemidiaphragm"] = hemi[side]
    masks["heart"] = heart
    masks["mediastinum"] = mediastinum | trachea
    masks["trachea"] = trachea
    landmarks["carina"] = (0.5 * w, 0.33 * h)

    # ---- intensities: smooth base densities, then texture, bones and noise
    sc = w / 1024.0
    lungs = lung_r | lung_l
    lateral = np.clip(np.abs(u - 0.5) / p.body_half_width, 0, 1)
    base = np.full((h, w), 0.03, np.float32)
    base = np.where(body, 0.50 + 0.10 * lateral**4, base)
    base = np.where(abdomen, 0.54 + 0.08 * (1 - lateral**2), base)
    gastric = ((u - 0.64) / 0.05) ** 2 + ((v - (p.lung_bottom_left + 0.06)) / 0.03) ** 2 < 1
    base = np.where(gastric & abdomen, 0.34, base)
    base = np.where(lungs, 0.21 - 0.06 * np.clip(np.abs(u - 0.5) - 0.15, 0, None) / 0.3, base)
    heart_r = np.sqrt((ru / (0.145 * hs)) ** 2 + (rv / (0.105 * hs)) ** 2)
    base = np.where(heart, 0.62 + 0.06 * np.clip(1 - heart_r, 0, 1), base)
    base = np.where(mediastinum, 0.64, base)
    base = np.where(trachea, 0.42, base)
    # main bronchi: from the carina towards each hilum
    cx, cy = 0.5 * w, 0.33 * h
    for hxb, hyb in (landmarks["right_hilum"], landmarks["left_hilum"]):
        ex, ey = cx + 0.6 * (hxb - cx), cy + 0.6 * (hyb - cy)
        cv2.line(base, (round(cx), round(cy)), (round(ex), round(ey)), 0.40, max(1, round(18 * sc)))
    base = cv2.GaussianBlur(base.astype(np.float32), (0, 0), max(1.0, 3.5 * sc))
    soft_lungs = cv2.GaussianBlur(lungs.astype(np.float32), (0, 0), max(1.0, 3.0 * sc))
    dense = cv2.GaussianBlur(
        (heart | mediastinum | abdomen).astype(np.float32), (0, 0), max(1.0, 4.0 * sc)
    )
    img = base + 0.03 * _smooth_noise(rng, h, w, 0.08) * body
    img += soft_lungs * (
        0.025 * _smooth_noise(rng, h, w, 0.01) + 0.02 * _smooth_noise(rng, h, w, 0.05)
    )
    vess = _vessels(rng, h, w, [landmarks["right_hilum"], landmarks["left_hilum"]], n=14)
    img += 0.24 * vess * soft_lungs
    for hxp, hyp in (landmarks["right_hilum"], landmarks["left_hilum"]):
        blob = np.exp(-(((u * w - hxp) / (0.03 * w)) ** 2 + ((v * h - hyp) / (0.045 * h)) ** 2))
        img += 0.10 * blob * (0.7 + 0.3 * _smooth_noise(rng, h, w, 0.006).clip(-1, 1))
    spine = np.clip(1 - np.abs(u - 0.5) / 0.035, 0, 1) ** 0.3
    # vertebral bodies: faint, with end-plate stripes, mostly hidden behind the heart
    stripes = 1 + (np.sin(v * np.pi / p.rib_spacing * 2) > 0.7)
    img += 0.03 * spine * body * stripes * (1 - 0.5 * dense)
    img += _ribs(u, v, p, rng) * body * 0.5 * (1 - 0.7 * dense)
    img += _clavicles(u, v, rng) * 0.22
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), max(0.6, 1.0 * sc))
    img += rng.normal(0, 0.012, size=(h, w)).astype(np.float32)
    img = np.clip(img, 0, 1)

    names = tuple(REGIONS)
    stack = np.stack([masks[n] for n in names])
    log.debug("phantom %dx%d rendered; heart scale %.2f", h, w, p.heart_scale)
    return Phantom(
        image=img.astype(np.float32), masks=stack, names=names, params=p, landmarks=landmarks
    )


def finalize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Apply display contrast (gamma) after findings are rendered; float32 0..1."""
    out = np.clip(image, 0, 1) ** 0.9 + rng.normal(0, 0.004, size=image.shape)
    return np.clip(out, 0, 1).astype(np.float32)
