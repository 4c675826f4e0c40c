"""Whole synthetic reading sessions: image, reader, eye, tracker, dictation and ground truth.

Everything is derived from integer seeds through :class:`numpy.random.SeedSequence`
streams (image, reader, eye, tracker, voice), so the same seed always gives the same
session, a session does not depend on which other sessions are generated with it,
and several readers can read the same image (``simulate_corpus(n_images,
n_readers)``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gazekit.geometry import Geometry, letterbox
from gazekit.recording import Recording
from gazekit.synthetic import oculomotor
from gazekit.synthetic import tracker as trackers
from gazekit.synthetic.findings import (
    Finding,
    anatomy_for,
    choose_labels,
    findings_frame,
    place_and_render,
)
from gazekit.synthetic.phantom import AnatomyParams, Phantom, finalize, make_phantom
from gazekit.synthetic.reader import STRATEGIES, ReaderStyle, Scanpath, read_image, review
from gazekit.synthetic.transcript import dictate

log = logging.getLogger(__name__)

#: Default display: 1920×1080 px, 531×298 mm (24" 16:9), viewed from 700 mm.
SCREEN = {"screen_w_px": 1920.0, "screen_h_px": 1080.0, "screen_w_mm": 531.0, "screen_h_mm": 298.0}
VIEWING_DISTANCE_MM = 700.0

_STREAMS = {"image": 0, "reader": 1, "eye": 2, "tracker": 3, "voice": 4}


def _rng(seed: int | tuple[int, ...], stream: str, *extra: int) -> np.random.Generator:
    key = (seed,) if isinstance(seed, int) else tuple(seed)
    return np.random.default_rng(np.random.SeedSequence([*key, _STREAMS[stream], *extra]))


@dataclass
class SyntheticImage:
    """A phantom radiograph with its findings and anatomy masks.

    Attributes
    ----------
    image_id : str
    image : (H, W) ndarray of float32, 0..1
    masks : (R, H, W) ndarray of bool
    names : tuple of str
        Region name of each mask.
    findings : list of Finding
    phantom : Phantom
        The finding-free phantom (anatomy, landmarks).
    """

    image_id: str
    image: np.ndarray
    masks: np.ndarray
    names: tuple[str, ...]
    findings: list[Finding]
    phantom: Phantom

    def image_u8(self) -> np.ndarray:
        """The image as (H, W) uint8 (what is written to PNG)."""
        return np.round(self.image * 255.0).astype(np.uint8)


def simulate_image(
    seed: int | tuple[int, ...],
    image_size: int = 1024,
    n_findings: int | None = None,
    image_id: str | None = None,
) -> SyntheticImage:
    """Render a phantom chest radiograph with findings, deterministically from ``seed``.

    Parameters
    ----------
    seed : int or tuple of int
        Seed of the image's own random stream (independent of the reader, eye, tracker
        and voice streams of the same seed).
    image_size : int, px
        Side of the square image.
    n_findings : int, optional
        Number of distinct findings; drawn from 0–4 (about 20 % normal images) when
        omitted.
    image_id : str, optional
        Defaults to ``"syn<seed>"`` (tuple seeds joined by ``-``).

    Returns
    -------
    SyntheticImage
        ``image``: (image_size, image_size) float32 in [0, 1]; ``masks``: (R, H, W) bool
        anatomy masks named by ``names``; ``findings`` placed on the image; the
        finding-free ``phantom``.

    Raises
    ------
    ValueError
        ``n_findings`` is outside 0..the number of simulated finding types.
    """
    rng = _rng(seed, "image")
    labels = choose_labels(rng, n_findings)
    params = anatomy_for(labels, AnatomyParams.random(rng), rng)
    ph = make_phantom(image_size, rng, params)
    img, found = place_and_render(ph, labels, rng)
    img = finalize(img, rng)
    key = seed if isinstance(seed, int) else "-".join(str(s) for s in seed)
    return SyntheticImage(image_id or f"syn{key}", img, ph.masks, ph.names, found, ph)


def display_geometry(image_w: int, image_h: int) -> Geometry:
    """Image-frame geometry of an image letterboxed on the default screen.

    The default screen is a 1920×1080 px, 531×298 mm monitor viewed from 700 mm
    (a 24-inch 16:9 monitor).

    Parameters
    ----------
    image_w, image_h : int, image px
        Size of the radiograph.

    Returns
    -------
    Geometry
        ``frame="image"``: positions in image pixels, with the image scaled to fit the
        screen, centred (:func:`gazekit.geometry.letterbox`).

    Examples
    --------
    >>> g = display_geometry(2000, 2500)
    >>> g.image_left_px, g.image_disp_w_px, round(g.px_per_deg(), 1)
    (528.0, 864.0, 102.3)
    """
    left, top, dw, dh = letterbox(image_w, image_h, SCREEN["screen_w_px"], SCREEN["screen_h_px"])
    return Geometry(
        frame="image",
        viewing_distance_mm=VIEWING_DISTANCE_MM,
        image_w_px=float(image_w),
        image_h_px=float(image_h),
        image_left_px=left,
        image_top_px=top,
        image_disp_w_px=dw,
        image_disp_h_px=dh,
        **SCREEN,
    )


@dataclass
class Session:
    """One synthetic reading session with its ground truth.

    Attributes
    ----------
    recording : Recording
        Samples (with the true ``label`` column), tracker events, transcript, findings.
    image : (H, W) ndarray of float32
    atlas_masks : (R, H, W) ndarray of bool
    region_names : tuple of str
    truth : pandas.DataFrame
        ``truth_fixations`` schema: one row per true fixation.
    strategy : str
    eye : oculomotor.EyeTrace
        The noise-free 1 kHz eye trace with true saccades and blinks.
    findings : list of Finding
    """

    recording: Recording
    image: np.ndarray
    atlas_masks: np.ndarray
    region_names: tuple[str, ...]
    truth: pd.DataFrame
    strategy: str
    eye: oculomotor.EyeTrace
    findings: list[Finding] = field(default_factory=list)

    @property
    def recording_id(self) -> str:
        return self.recording.recording_id

    @property
    def image_id(self) -> str:
        return str(self.recording.image_id)

    @property
    def masks(self) -> dict[str, np.ndarray]:
        """Region name → (H, W) bool mask."""
        return dict(zip(self.region_names, self.atlas_masks, strict=True))

    def intent_truth(self, max_seq: int = 7) -> list[list[str]]:
        """True intent labels of each truth fixation (:func:`gazekit.synthetic.truth.intent_truth`)."""
        from gazekit.synthetic.truth import intent_truth

        labels = [f.label for f in self.findings]
        return intent_truth(self.truth, self.recording.transcript, labels, self.strategy, max_seq)


def _truth_frame(
    sp: Scanpath,
    eye: oculomotor.EyeTrace,
    findings: list[Finding],
    recording_id: str,
    strategy: str,
) -> pd.DataFrame:
    fx = eye.fixations
    x, y = fx["x_px"].to_numpy(), fx["y_px"].to_numpy()
    fixated: list[str | None] = [None] * len(fx)
    for f in findings:
        inside = f.contains(x, y)
        for j in np.flatnonzero(inside):
            fixated[j] = fixated[j] or f.label
    return pd.DataFrame(
        {
            "recording_id": recording_id,
            "fixation_index": np.arange(len(fx), dtype=np.int64),
            "onset_ms": fx["onset_ms"].to_numpy(),
            "offset_ms": fx["offset_ms"].to_numpy(),
            "x_px": x,
            "y_px": y,
            "duration_ms": (fx["offset_ms"] - fx["onset_ms"]).to_numpy(),
            "target_x_px": sp.x,
            "target_y_px": sp.y,
            "target_region": sp.target_region,
            "intended_findings": [list(v) for v in sp.intended],
            "fixated_finding": fixated,
            "phase": sp.phase,
            "strategy": strategy,
        }
    )


def simulate_session(
    seed: int | tuple[int, ...] = 0,
    tracker: str = "gazepoint",
    strategy: str = "seq",
    image_size: int = 1024,
    n_findings: int | None = None,
    reader_id: str = "R1",
    image: SyntheticImage | None = None,
    min_duration_s: float | None = None,
    recording_id: str | None = None,
    params: oculomotor.OculomotorParams | None = None,
) -> Session:
    """Simulate one radiologist reading one synthetic chest radiograph.

    Parameters
    ----------
    seed : int or tuple of int
        Root seed of every random stream of the session.
    tracker : {"gazepoint", "eyelink"}
        60 Hz Gazepoint-like or 1000 Hz EyeLink-like recording.
    strategy : {"seq", "explore", "hybrid"}
    image_size : int
        Phantom size in px (square).
    n_findings : int, optional
        Number of findings on the image (0–4 drawn when omitted).
    reader_id : str
        The reader; their habits (speed, checklist order) derive from this id.
    image : SyntheticImage, optional
        Read this image instead of rendering one from ``seed`` (several readers, one image).
    min_duration_s : float, optional
        Keep reading (phase ``review``) until at least this long (benchmarks).
    recording_id : str, optional
    params : OculomotorParams, optional

    Returns
    -------
    Session
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    tracker_profile = trackers.get_profile(tracker)
    img = image if image is not None else simulate_image(seed, image_size, n_findings)
    h, w = img.image.shape
    geom = display_geometry(w, h)
    ppd = geom.px_per_deg()
    style = ReaderStyle.from_id(reader_id)
    rid = recording_id or f"{img.image_id}-{reader_id}"
    sp = read_image(
        img.phantom, img.findings, strategy, _rng(seed, "reader"), ppd, style, min_duration_s
    )
    reading_end = None
    for attempt in range(4):
        eye = oculomotor.generate(sp.x, sp.y, sp.duration_ms, geom, _rng(seed, "eye"), params)
        onsets = eye.fixations["onset_ms"].to_numpy()
        if reading_end is None:  # end of the reading proper, before any review fixations
            proper = [i for i, ph in enumerate(sp.phase) if ph != "review"]
            reading_end = float(eye.fixations["offset_ms"].iloc[proper[-1]])
        transcript = dictate(
            img.findings,
            onsets,
            sp.finding_index,
            sp.intended,
            sp.phase,
            reading_end,
            _rng(seed, "voice"),
            rid,
        )
        last = float(transcript["end_ms"].max()) if len(transcript) else 0.0
        if last + 500.0 <= eye.duration_ms or attempt == 3:
            break
        # keep the eye moving until the dictation is over (review fixations)
        sp = sp.concat(
            review(
                img.phantom,
                img.findings,
                _rng(seed, "reader", attempt + 1),
                ppd,
                style,
                (last + 1500.0 - eye.duration_ms) / 1000.0,
                (float(sp.x[-1]), float(sp.y[-1])),
            )
        )
    if min_duration_s is not None:
        # the scanpath was generated long enough; end the session at the first fixation that
        # reaches the requested duration (and covers the dictation)
        last = float(transcript["end_ms"].max()) if len(transcript) else 0.0
        target = max(min_duration_s * 1000.0, last + 500.0, reading_end)
        off = eye.fixations["offset_ms"].to_numpy()
        n = int(min(np.searchsorted(off, target) + 1, len(off)))
        eye, sp = eye.head(n), sp.head(n)
    samples = trackers.measure(eye, tracker_profile, _rng(seed, "tracker"), geom)
    events = trackers.tracker_events(eye, samples, tracker_profile, geom, rid)
    certainty = _rng(seed, "voice", 1).choice([4.0, 5.0], size=len(img.findings), p=[0.3, 0.7])
    rec = Recording(
        recording_id=rid,
        samples=samples,
        geometry=geom,
        corpus="synthetic",
        source_file=f"synthetic:seed={seed}",
        source_format="synthetic",
        sampling_rate_hz=tracker_profile.rate_hz,
        image_id=img.image_id,
        reader_id=reader_id,
        events=events,
        transcript=transcript,
        findings=findings_frame(img.findings, rid, certainty),
        t0=0.0,
        pupil_unit="px diameter" if tracker_profile.name == "gazepoint" else "arbitrary",
        extra={
            "strategy": strategy,
            "tracker": tracker_profile.name,
            "seed": str(seed),
            "generator": "gazekit.synthetic",
        },
    )
    truth = _truth_frame(sp, eye, img.findings, rid, strategy)
    log.info(
        "simulated %s: %d fixations, %.1f s, %d samples",
        rid,
        len(truth),
        eye.duration_ms / 1000,
        len(samples),
    )
    return Session(rec, img.image, img.masks, img.names, truth, strategy, eye, img.findings)


def simulate_corpus(
    n_images: int,
    seed: int = 0,
    n_readers: int = 1,
    tracker: str = "gazepoint",
    strategy: str = "mixed",
    image_size: int = 1024,
    n_findings: int | None = None,
    min_duration_s: float | None = None,
) -> Iterator[Session]:
    """Generate ``n_images × n_readers`` sessions (each image read by every reader).

    Parameters
    ----------
    n_images, n_readers : int
        Number of images, and of readers reading each image.
    seed : int
        Corpus seed; image ``i`` (from 0) uses ``(seed, i)``, its reader ``Rj`` ``(seed, i, j)``.
    tracker : {"gazepoint", "eyelink"}
        Simulated tracker (sampling rate, noise, file format).
    strategy : {"seq", "explore", "hybrid", "mixed"}
        ``mixed`` cycles through the three strategies across sessions.
    image_size : int, px
        Side of the square images (see :func:`simulate_image`).
    n_findings : int, optional
        Findings per image; drawn per image when omitted.
    min_duration_s : float, s, optional
        Each reading continues (phase ``review``) until at least this long.

    Yields
    ------
    Session
        In image-major order; readers are ``R1 … Rn``.

    Raises
    ------
    ValueError
        Unknown ``strategy``.
    """
    if strategy != "mixed" and strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {(*STRATEGIES, 'mixed')}, got {strategy!r}")
    k = 0
    for i in range(n_images):
        img = simulate_image((seed, i), image_size, n_findings, image_id=f"syn{seed}-img{i:04d}")
        for j in range(n_readers):
            strat = STRATEGIES[k % 3] if strategy == "mixed" else strategy
            yield simulate_session(
                (seed, i, j + 1),
                tracker=tracker,
                strategy=strat,
                reader_id=f"R{j + 1}",
                image=img,
                min_duration_s=min_duration_s,
            )
            k += 1
