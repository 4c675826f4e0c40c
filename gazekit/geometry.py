"""Every coordinate conversion in gazekit: image px ↔ screen px ↔ visual degrees.

Gaze is stored in the displayed image's pixel grid (``frame="image"``: ``x_px`` is
the column, ``y_px`` the row, origin top-left) when the image's placement on the
screen is known, otherwise in screen pixels (``frame="screen"``). Visual angle is
computed exactly per sample: a screen position is turned into millimetres from
the screen centre and then into the angle ``atan(offset / distance)`` per axis, so
positions near the screen edge get their true, smaller degrees-per-pixel.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from gazekit.errors import GeometryError

FRAMES = ("image", "screen")
#: Fields that are sizes or distances (strictly positive).
_POSITIVE = frozenset({"screen_w_px", "screen_h_px", "screen_w_mm", "screen_h_mm",
                       "viewing_distance_mm", "image_w_px", "image_h_px", "image_disp_w_px",
                       "image_disp_h_px"})  # fmt: skip
#: Smallest screen side accepted (px): the smallest standard video mode is 320×200, and
#: no eye tracker calibrates on a display of fewer than ~100 px per side.
MIN_SCREEN_PX = 100.0
#: Viewing distances accepted (mm): below ~70 mm (the near point of accommodation of a
#: child's eye) nothing on a screen can be seen sharply; beyond 20 m a screen subtends
#: too little for gaze to be mapped onto it. Desktop and radiology set-ups use 500-800 mm.
MIN_DISTANCE_MM = 50.0
MAX_DISTANCE_MM = 20_000.0


@dataclass(frozen=True)
class Geometry:
    """Viewing geometry of one recording.

    All lengths in screen pixels unless the name says ``_mm``. Fields left ``None``
    are unknown; conversions that need them raise :class:`GeometryError`.
    """

    frame: str = "screen"
    screen_w_px: float | None = None
    screen_h_px: float | None = None
    screen_w_mm: float | None = None
    screen_h_mm: float | None = None
    viewing_distance_mm: float | None = None
    image_w_px: float | None = None
    image_h_px: float | None = None
    image_left_px: float | None = None
    image_top_px: float | None = None
    image_disp_w_px: float | None = None
    image_disp_h_px: float | None = None

    def __post_init__(self) -> None:
        if self.frame not in FRAMES:
            raise GeometryError(f"frame must be one of {FRAMES}, got {self.frame!r}")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "frame" or v is None:
                continue
            if not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise GeometryError(f"{f.name} must be a finite number, got {v!r}")
            if f.name in _POSITIVE and v <= 0:
                raise GeometryError(f"{f.name} must be positive, got {v:g}")
        for name in ("screen_w_px", "screen_h_px"):
            v = getattr(self, name)
            if v is not None and v < MIN_SCREEN_PX:
                raise GeometryError(
                    f"{name} = {v:g} px is not a screen (at least {MIN_SCREEN_PX} px per side); "
                    "pass the display resolution, e.g. --screen-px 1920x1080"
                )
        d = self.viewing_distance_mm
        if d is not None and not MIN_DISTANCE_MM <= d <= MAX_DISTANCE_MM:
            raise GeometryError(
                f"viewing_distance_mm = {d:g} mm is impossible (expected "
                f"{MIN_DISTANCE_MM:g}..{MAX_DISTANCE_MM:g} mm; desktop trackers use 500-800)"
            )

    # ------------------------------------------------------------------ helpers
    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for Parquet metadata and the recordings table)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Geometry:
        """Build from a dict, ignoring unknown keys and NaN values."""
        names = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {}
        for k, v in d.items():
            if k not in names:
                continue
            if isinstance(v, float) and math.isnan(v):
                v = None
            if v is not None and k != "frame":
                v = float(v)
            kw[k] = v
        return cls(**kw)

    @property
    def has_placement(self) -> bool:
        """Whether the displayed image's rectangle on screen is known."""
        return None not in (
            self.image_w_px,
            self.image_h_px,
            self.image_left_px,
            self.image_top_px,
            self.image_disp_w_px,
            self.image_disp_h_px,
        )

    @property
    def has_degrees(self) -> bool:
        """Whether screen size (px and mm) and viewing distance are known."""
        return None not in (
            self.screen_w_px,
            self.screen_h_px,
            self.screen_w_mm,
            self.screen_h_mm,
            self.viewing_distance_mm,
        ) and (self.frame == "screen" or self.has_placement)

    def _require_degrees(self) -> None:
        if not self.has_degrees:
            missing = [
                n
                for n in (
                    "screen_w_px",
                    "screen_h_px",
                    "screen_w_mm",
                    "screen_h_mm",
                    "viewing_distance_mm",
                )
                if getattr(self, n) is None
            ]
            if self.frame == "image" and not self.has_placement:
                missing.append(
                    "image placement (image_left_px, image_top_px, image_disp_w_px, ...)"
                )
            raise GeometryError(
                "visual degrees need the screen size in px and mm and the viewing distance; "
                f"missing: {', '.join(missing)}. Pass them (e.g. --screen-px 1920x1080 "
                "--screen-mm 531x298 --distance-mm 700) or use pixel units (degrees=False)."
            )

    # -------------------------------------------------------------- conversions
    def image_to_screen(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image pixel (col, row) → screen pixel. Identity in the screen frame."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if self.frame == "screen":
            return x, y
        if not self.has_placement:
            raise GeometryError("image placement on screen is unknown")
        sx = self.image_disp_w_px / self.image_w_px  # type: ignore[operator]
        sy = self.image_disp_h_px / self.image_h_px  # type: ignore[operator]
        return self.image_left_px + x * sx, self.image_top_px + y * sy  # type: ignore[operator]

    def screen_to_image(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Screen pixel → image pixel (col, row)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if not self.has_placement:
            raise GeometryError("image placement on screen is unknown")
        sx = self.image_w_px / self.image_disp_w_px  # type: ignore[operator]
        sy = self.image_h_px / self.image_disp_h_px  # type: ignore[operator]
        return (x - self.image_left_px) * sx, (y - self.image_top_px) * sy  # type: ignore[operator]

    def to_degrees(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions in the stored frame → visual angle (deg) from the screen centre.

        Parameters
        ----------
        x, y : (N,) ndarray of float64, px
            Positions in this geometry's frame.

        Returns
        -------
        xd, yd : (N,) ndarray of float64, deg
            ``atan(offset_mm / distance_mm)`` per axis, exact for every sample.
        """
        self._require_degrees()
        sx, sy = self.image_to_screen(x, y)
        mm_x = (sx - self.screen_w_px / 2.0) * (self.screen_w_mm / self.screen_w_px)  # type: ignore[operator]
        mm_y = (sy - self.screen_h_px / 2.0) * (self.screen_h_mm / self.screen_h_px)  # type: ignore[operator]
        d = float(self.viewing_distance_mm)  # type: ignore[arg-type]
        return np.degrees(np.arctan2(mm_x, d)), np.degrees(np.arctan2(mm_y, d))

    def px_per_deg(self) -> float:
        """Pixels (of the stored frame) per degree at the screen centre."""
        self._require_degrees()
        mm_per_px = self.screen_w_mm / self.screen_w_px  # type: ignore[operator]
        deg_per_screen_px = math.degrees(2 * math.atan(mm_per_px / 2 / self.viewing_distance_mm))  # type: ignore[operator]
        scale = 1.0
        if self.frame == "image":
            scale = self.image_w_px / self.image_disp_w_px  # type: ignore[operator]
        return scale / deg_per_screen_px

    def angular_distance(
        self, x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray
    ) -> np.ndarray:
        """Exact visual angle (deg) between positions, via the 3-D viewing rays."""
        self._require_degrees()
        d = float(self.viewing_distance_mm)  # type: ignore[arg-type]

        def ray(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            sx, sy = self.image_to_screen(x, y)
            mx = (sx - self.screen_w_px / 2.0) * (self.screen_w_mm / self.screen_w_px)  # type: ignore[operator]
            my = (sy - self.screen_h_px / 2.0) * (self.screen_h_mm / self.screen_h_px)  # type: ignore[operator]
            return mx, my

        ax, ay = ray(x1, y1)
        bx, by = ray(x2, y2)
        cx = ay * d - d * by
        cy = d * bx - ax * d
        cz = ax * by - ay * bx
        cross = np.sqrt(cx * cx + cy * cy + cz * cz)
        dot = ax * bx + ay * by + d * d
        return np.degrees(np.arctan2(cross, dot))


def letterbox(
    image_w: float, image_h: float, screen_w: float, screen_h: float
) -> tuple[float, float, float, float]:
    """Placement of an image scaled to fit a screen keeping aspect ratio, centred.

    Returns
    -------
    left, top, disp_w, disp_h : float, screen px
    """
    s = min(screen_w / image_w, screen_h / image_h)
    disp_w, disp_h = image_w * s, image_h * s
    return (screen_w - disp_w) / 2.0, (screen_h - disp_h) / 2.0, disp_w, disp_h
