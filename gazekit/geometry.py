"""Every coordinate conversion in gazekit: image px ↔ screen px ↔ visual degrees.

Gaze is stored in the displayed image's pixel grid (``frame="image"``: ``x_px`` is
the column, ``y_px`` the row, origin top-left) when the image's placement on the
screen is known, otherwise in screen pixels (``frame="screen"``). Visual angle is
computed exactly per sample: a screen position is turned into millimetres from
the screen centre and then into the angle ``atan(offset / distance)`` per axis, so
positions near the screen edge get their true, smaller degrees-per-pixel.

The one conversion family (no other module converts by hand):

* positions: :meth:`Geometry.image_to_screen`, :meth:`~Geometry.screen_to_image`,
  :meth:`~Geometry.px_to_mm` / :meth:`~Geometry.mm_affine` (screen mm from the centre),
  :meth:`~Geometry.to_degrees`, :meth:`~Geometry.angular_distance`;
* lengths: :meth:`~Geometry.mm_per_px`, :meth:`~Geometry.px_per_deg_xy` (and
  :meth:`~Geometry.px_per_deg`), :meth:`~Geometry.deg_to_px`, :meth:`~Geometry.px_to_deg`,
  :func:`distance_for_px_per_deg`, :meth:`Geometry.from_px_per_deg` (only a scale known);
* a viewer that zooms and pans (REFLACX) changes the mapping within a recording: the
  optional per-row ``px_per_deg_x``/``px_per_deg_y`` columns of the samples and events
  tables carry it, read with :func:`local_px_per_deg`; ``deg_to_px``/``px_to_deg`` take
  such per-row values.
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
        """Pixels (of the stored frame) per degree at the screen centre, horizontally.

        Returns
        -------
        float, px/deg
            The first of :meth:`px_per_deg_xy`.

        Raises
        ------
        GeometryError
            The screen size in mm or the viewing distance is unknown.

        Examples
        --------
        A 1920×1080 px, 531×299 mm monitor viewed from 70 cm:

        >>> g = Geometry(screen_w_px=1920, screen_h_px=1080, screen_w_mm=531.0,
        ...              screen_h_mm=298.7, viewing_distance_mm=700.0)
        >>> round(g.px_per_deg(), 1)
        44.2
        """
        return self.px_per_deg_xy()[0]

    def px_per_deg_xy(self) -> tuple[float, float]:
        """Pixels (of the stored frame) per degree at the screen centre, per axis.

        The reciprocal of the angle one stored-frame pixel subtends at the centre,
        ``2·atan(mm / 2d)``, per axis.

        Returns
        -------
        ppd_x, ppd_y : float, px/deg
        """
        self._require_degrees()
        d = float(self.viewing_distance_mm)  # type: ignore[arg-type]
        return tuple(  # type: ignore[return-value]
            1.0 / math.degrees(2.0 * math.atan(mm / 2.0 / d)) for mm in self.mm_per_px()
        )

    def mm_per_px(self) -> tuple[float, float]:
        """Size of one stored-frame pixel on the screen, in mm, per axis.

        Returns
        -------
        mm_x, mm_y : float, mm/px
            Screen mm per screen px, times displayed px per image px in the image frame.
        """
        if None in (self.screen_w_px, self.screen_h_px, self.screen_w_mm, self.screen_h_mm):
            raise GeometryError("mm need the screen size in px and mm (screen_w/h_px, _mm)")
        mx = self.screen_w_mm / self.screen_w_px  # type: ignore[operator]
        my = self.screen_h_mm / self.screen_h_px  # type: ignore[operator]
        if self.frame == "image":
            if not self.has_placement:
                raise GeometryError("image placement on screen is unknown")
            mx *= self.image_disp_w_px / self.image_w_px  # type: ignore[operator]
            my *= self.image_disp_h_px / self.image_h_px  # type: ignore[operator]
        return mx, my

    def deg_to_px(
        self, deg: float | np.ndarray, px_per_deg: float | np.ndarray | None = None
    ) -> float | np.ndarray:
        """A visual angle as a length in stored-frame pixels (horizontal scale).

        Parameters
        ----------
        deg : float or (N,) ndarray, deg
        px_per_deg : float or (N,) ndarray, px/deg, optional
            The mapping where the angle is taken (a zooming viewer's per-sample or
            per-fixation ``px_per_deg_x``); NaN entries and ``None`` fall back to
            :meth:`px_per_deg` at the screen centre.

        Returns
        -------
        float or (N,) ndarray, px
        """
        ppd = self._local_ppd(px_per_deg)
        out = np.asarray(deg, dtype=np.float64) * ppd
        return float(out) if np.ndim(out) == 0 else out

    def px_to_deg(
        self, px: float | np.ndarray, px_per_deg: float | np.ndarray | None = None
    ) -> float | np.ndarray:
        """A length in stored-frame pixels as a visual angle; inverse of :meth:`deg_to_px`.

        Parameters
        ----------
        px : float or (N,) ndarray, px
        px_per_deg : float or (N,) ndarray, px/deg, optional
            As in :meth:`deg_to_px`.

        Returns
        -------
        float or (N,) ndarray, deg
        """
        ppd = self._local_ppd(px_per_deg)
        out = np.asarray(px, dtype=np.float64) / ppd
        return float(out) if np.ndim(out) == 0 else out

    def _local_ppd(self, px_per_deg: float | np.ndarray | None) -> float | np.ndarray:
        if px_per_deg is None:
            return self.px_per_deg()
        ppd = np.asarray(px_per_deg, dtype=np.float64)
        if np.any(ppd <= 0):
            raise GeometryError("pixels per degree must be positive")
        if np.isnan(ppd).any():
            ppd = np.where(np.isnan(ppd), self.px_per_deg(), ppd)
        return float(ppd) if ppd.ndim == 0 else ppd

    def px_to_mm(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stored-frame positions → screen mm from the screen centre, per axis.

        Parameters
        ----------
        x, y : (N,) ndarray of float64, px

        Returns
        -------
        mm_x, mm_y : (N,) ndarray of float64, mm
        """
        ax, bx, ay, by = self.mm_affine()
        return ax + bx * np.asarray(x, np.float64), ay + by * np.asarray(y, np.float64)

    def mm_affine(self) -> tuple[float, float, float, float]:
        """Coefficients ``(ax, bx, ay, by)`` with ``offset_mm = a + b·px`` per axis.

        The offset is measured on the screen from its centre; with the viewing
        distance, ``atan2(a + b·x, distance_mm)`` is exactly :meth:`to_degrees`.
        Numba kernels take these scalars instead of the geometry object.
        """
        mmx, mmy = self.mm_per_px()
        left = top = 0.0
        if self.frame == "image":
            left, top = float(self.image_left_px), float(self.image_top_px)  # type: ignore[arg-type]
        smx = self.screen_w_mm / self.screen_w_px  # type: ignore[operator]
        smy = self.screen_h_mm / self.screen_h_px  # type: ignore[operator]
        ax = (left - self.screen_w_px / 2.0) * smx  # type: ignore[operator]
        ay = (top - self.screen_h_px / 2.0) * smy  # type: ignore[operator]
        return ax, mmx, ay, mmy

    @classmethod
    def from_px_per_deg(cls, px_per_deg: float) -> Geometry:
        """A pixel-scale geometry: only a constant ``px_per_deg`` is known (e.g. from the CLI).

        A 1000 px screen frame viewed from the distance at which one degree spans
        ``px_per_deg`` pixels at its centre; good for converting kernel widths and
        radii (:meth:`deg_to_px`), not for absolute screen positions.

        Parameters
        ----------
        px_per_deg : float, px/deg

        Returns
        -------
        Geometry
        """
        ppd = float(px_per_deg)
        if not math.isfinite(ppd) or ppd <= 0:
            raise GeometryError(f"pixels per degree must be positive, got {px_per_deg}")
        # pixels sized so that one degree spans 10 mm (a ~573 mm viewing distance) on a
        # 1000 px screen: a plausible set-up for any scale, inside the geometry's limits
        mm_per_px = 10.0 / ppd
        n = 1000.0
        return cls(
            frame="screen", screen_w_px=n, screen_h_px=n, screen_w_mm=n * mm_per_px,
            screen_h_mm=n * mm_per_px, viewing_distance_mm=distance_for_px_per_deg(ppd, mm_per_px),
        )  # fmt: skip

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


def distance_for_px_per_deg(px_per_deg: float, mm_per_px: float) -> float:
    """Viewing distance at which pixels of ``mm_per_px`` give ``px_per_deg`` at the centre.

    The inverse of :meth:`Geometry.px_per_deg_xy`: a pixel subtends ``2·atan(mm / 2d)``,
    which must equal ``1 / px_per_deg`` degrees.

    Parameters
    ----------
    px_per_deg : float, px/deg
    mm_per_px : float, mm

    Returns
    -------
    float, mm
    """
    if not (math.isfinite(px_per_deg) and px_per_deg > 0 and mm_per_px > 0):
        raise GeometryError(f"pixels per degree must be positive, got {px_per_deg}")
    return mm_per_px / 2.0 / math.tan(math.radians(0.5 / px_per_deg))


def letterbox(
    image_w: float, image_h: float, screen_w: float, screen_h: float
) -> tuple[float, float, float, float]:
    """Placement of an image scaled to fit a screen keeping aspect ratio, centred.

    Parameters
    ----------
    image_w, image_h : float, image px
        Size of the image.
    screen_w, screen_h : float, screen px
        Size of the screen (or viewer window).

    Returns
    -------
    left, top, disp_w, disp_h : float, screen px
        Top-left corner of the displayed image and its displayed size.

    Examples
    --------
    A portrait radiograph on a landscape monitor is pillar-boxed:

    >>> letterbox(2000, 2500, 1920, 1080)
    (528.0, 0.0, 864.0, 1080.0)
    """
    s = min(screen_w / image_w, screen_h / image_h)
    disp_w, disp_h = image_w * s, image_h * s
    return (screen_w - disp_w) / 2.0, (screen_h - disp_h) / 2.0, disp_w, disp_h


#: Optional per-row columns carrying a time-varying image-px-per-degree mapping
#: (a viewer that zooms and pans: REFLACX) in samples and events tables.
PPD_COLUMNS = ("px_per_deg_x", "px_per_deg_y")


def local_px_per_deg(table: Any, geometry: Geometry | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-row pixels per degree of a samples or events table, per axis.

    Parameters
    ----------
    table : DataFrame
        Rows of a samples or events table; its ``px_per_deg_x``/``px_per_deg_y``
        columns, where present and finite, give the mapping in force at that row.
    geometry : Geometry or None
        Fills rows without their own mapping with :meth:`Geometry.px_per_deg_xy`.

    Returns
    -------
    ppd_x, ppd_y : (N,) ndarray of float64, px/deg
        NaN where neither the row nor the geometry knows the mapping.
    """
    n = len(table)
    base = (
        geometry.px_per_deg_xy()
        if geometry is not None and geometry.has_degrees
        else (math.nan, math.nan)
    )
    out = []
    for col, fill in zip(PPD_COLUMNS, base, strict=True):
        v = (
            np.asarray(table[col], dtype=np.float64)
            if col in getattr(table, "columns", ())
            else np.full(n, np.nan)
        )
        out.append(np.where(np.isfinite(v) & (v > 0), v, fill))
    return out[0], out[1]


def is_time_varying(table: Any) -> bool:
    """Whether a samples/events table carries a changing ``px_per_deg_x``/``_y`` mapping.

    Parameters
    ----------
    table : DataFrame
        Rows of a samples or events table (any object with ``columns``).

    Returns
    -------
    bool
        True when either column holds at least two different finite values (a viewer
        that zooms: REFLACX); False when the columns are absent, empty or constant.
    """
    for col in PPD_COLUMNS:
        if col in getattr(table, "columns", ()):
            v = np.asarray(table[col], dtype=np.float64)
            v = v[np.isfinite(v)]
            if v.size and v.min() != v.max():
                return True
    return False


def scaled_degrees(
    x_px: np.ndarray, y_px: np.ndarray, px_per_deg_x: np.ndarray, px_per_deg_y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Degrees from positions with a per-sample scale (time-varying display geometry).

    For recordings whose image is zoomed or panned while viewed (the samples'
    ``px_per_deg_x``/``px_per_deg_y`` columns), a fixed :class:`Geometry` is wrong; the
    angle is the position divided by the current scale, which is exact for the
    displacements between samples at one scale (what velocities and dispersions use).

    Parameters
    ----------
    x_px, y_px : (N,) ndarray of float64, px
    px_per_deg_x, px_per_deg_y : (N,) ndarray of float64, px/deg
        Scale at each sample (> 0).

    Returns
    -------
    xd, yd : (N,) ndarray of float64, deg
    """
    return (
        np.asarray(x_px, dtype=np.float64) / np.asarray(px_per_deg_x, dtype=np.float64),
        np.asarray(y_px, dtype=np.float64) / np.asarray(px_per_deg_y, dtype=np.float64),
    )
