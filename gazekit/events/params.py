"""Typed parameters of event detection: one frozen dataclass per parameter set.

* :class:`SignalParams` — preprocessing (:func:`gazekit.events.signal.prepare`);
* :class:`PostParams` — fixation merging and minimum durations
  (:func:`gazekit.events.postprocess.postprocess`), with per-detector defaults;
* one class per detector (:class:`IVTParams`, :class:`IDTParams`,
  :class:`AdaptiveParams`), registered with the detector in
  :data:`~gazekit.events.base.DETECTORS`.

This module imports neither NumPy nor Numba, so the command line builds its options
from it without loading the detectors.

Every field name carries its unit (``_ms``, ``_deg``, ``_deg_s``, ``_hz``) and every
field has a ``help`` text; the ``gazekit events`` options and the pipeline's
``-p events.NAME=VALUE`` are generated from and checked against these fields, so an
unknown name or a bad value fails before any work starts (:func:`resolve`).

>>> from gazekit.events import resolve
>>> p = resolve("ivt", velocity_threshold_deg_s=40, sg_window_ms="10")
>>> p.detector.velocity_threshold_deg_s, p.signal.sg_window_ms, p.post.min_fixation_ms
(40.0, 10.0, 60.0)
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from gazekit.errors import GazekitError


def _help(text: str, default: Any) -> Any:
    return field(default=default, metadata={"help": text})


#: Longest time parameter accepted (ms): fixations last up to a few seconds and blinks
#: under 0.5 s, while smoothing and gap-filling windows are tens of ms (Holmqvist et al.
#: 2011, *Eye Tracking*, ch. 5); a window of 10 s or more cannot be meant.
MAX_TIME_MS = 10_000.0
#: Longest Savitzky–Golay window (ms): saccades last 20–100 ms, so a longer window smooths
#: every saccade away (Nyström & Holmqvist 2010 use 20 ms).
MAX_SG_WINDOW_MS = 200.0


def _check_times(obj: Any) -> None:
    """Refuse any ``*_ms`` field above :data:`MAX_TIME_MS` (``sg_window_ms``: 200 ms)."""
    for f in fields(obj):
        v = getattr(obj, f.name)
        if not f.name.endswith("_ms") or not isinstance(v, int | float) or isinstance(v, bool):
            continue
        limit = MAX_SG_WINDOW_MS if f.name == "sg_window_ms" else MAX_TIME_MS
        if v > limit:
            raise GazekitError(f"{f.name} = {v:g} ms is implausible (at most {limit:g} ms)")


def _check_positive(obj: Any, *names: str, allow_zero: bool = False) -> None:
    for name in names:
        v = getattr(obj, name)
        ok = (v >= 0 if allow_zero else v > 0) and math.isfinite(v)
        if not ok:
            bound = ">= 0" if allow_zero else "> 0"
            raise GazekitError(f"{name} must be a finite number {bound}, got {v!r}")


@dataclass(frozen=True)
class SignalParams:
    """Preprocessing: blinks, gap filling, degrees and Savitzky–Golay velocity.

    Defaults: the cubic 20 ms Savitzky–Golay derivative (see
    :mod:`gazekit.events.adaptive`, rule 1); gap fill-in up to 75 ms (Tobii I-VT, Olsen
    2012); blinks are losses of 50–500 ms (Holmqvist et al. 2011) widened by 25 ms for
    the lid artefact; a pupil under half its median marks a closing lid.
    """

    sg_window_ms: float = _help("Savitzky–Golay velocity window (ms).", 20.0)
    sg_order: int = _help("Savitzky–Golay polynomial order (1, 2 or 3).", 3)
    max_gap_ms: float = _help("Interpolate non-blink losses up to this long (ms).", 75.0)
    blink_min_ms: float = _help("Shortest loss that is a blink (ms).", 50.0)
    blink_max_ms: float = _help("Longest loss that is a blink (ms).", 500.0)
    blink_pad_ms: float = _help("Blink widening on each side, for the lid artefact (ms).", 25.0)
    pupil_collapse: float = _help(
        "Pupil below this fraction of its median marks a closing lid (0 disables).", 0.5
    )
    degree_free: bool = _help("No screen geometry: work in px (thresholds in px, px/s).", False)
    sampling_rate_hz: float | None = _help(
        "Sampling rate (Hz); default: the recording's, checked against its timestamps.", None
    )

    def __post_init__(self) -> None:
        _check_times(self)
        _check_positive(self, "sg_window_ms")
        _check_positive(self, "max_gap_ms", "blink_min_ms", "blink_pad_ms", allow_zero=True)
        if self.sg_order not in (1, 2, 3):
            raise GazekitError(f"sg_order must be 1, 2 or 3, got {self.sg_order!r}")
        if not self.blink_max_ms >= self.blink_min_ms:
            raise GazekitError(
                f"blink_max_ms ({self.blink_max_ms}) must be >= blink_min_ms ({self.blink_min_ms})"
            )
        if not 0 <= self.pupil_collapse < 1:
            raise GazekitError(f"pupil_collapse must be in [0, 1), got {self.pupil_collapse!r}")
        if self.sampling_rate_hz is not None:
            _check_positive(self, "sampling_rate_hz")


@dataclass(frozen=True)
class PostParams:
    """Post-processing of the labels (Olsen 2012): merge nearby fixations, drop short events."""

    merge_gap_ms: float = _help("Merge fixations at most this far apart in time (ms; 0: off).", 0.0)
    merge_distance_deg: float = _help("... and in space (deg; px when degree-free).", 0.5)
    min_fixation_ms: float = _help("Shorter fixations become undefined (ms).", 0.0)
    min_saccade_ms: float = _help("Shorter saccades are dropped (ms).", 0.0)

    def __post_init__(self) -> None:
        _check_times(self)
        _check_positive(
            self, "merge_gap_ms", "merge_distance_deg", "min_fixation_ms", "min_saccade_ms",
            allow_zero=True,
        )  # fmt: skip


@dataclass(frozen=True)
class IVTParams:
    """I-VT's own parameter (Olsen 2012's 30 deg/s)."""

    velocity_threshold_deg_s: float = _help(
        "I-VT: samples at or above this speed are saccade (deg/s; px/s when degree-free).",
        30.0,
    )

    def __post_init__(self) -> None:
        _check_times(self)
        _check_positive(self, "velocity_threshold_deg_s")


@dataclass(frozen=True)
class IDTParams:
    """I-DT's own parameters (Salvucci & Goldberg 2000; Blignaut 2009)."""

    dispersion_deg: float = _help(
        "I-DT: largest (max x - min x) + (max y - min y) of a fixation (deg; px when "
        "degree-free).",
        1.0,
    )
    window_ms: float = _help("I-DT: minimum fixation window (ms).", 100.0)

    def __post_init__(self) -> None:
        _check_times(self)
        _check_positive(self, "dispersion_deg", "window_ms")


@dataclass(frozen=True)
class AdaptiveParams:
    """Parameters of the adaptive detector (see the module docstring for sources).

    Attributes
    ----------
    peak_start_deg_s : float, deg/s
        Start of the peak-threshold iteration.
    peak_k_sd, onset_k_sd : float
        Peak and onset thresholds in robust SDs above the median noise speed.
    context_ms : float, ms
        Context of the local thresholds (0: one threshold for the recording).
    min_peak_samples : int
        Samples above the peak threshold a saccade needs (at ≥ ``pso_min_rate_hz``).
    pso_window_ms : float, ms
        A PSO excursion starts within this time of the saccade offset.
    pso_max_ms : float, ms
        Longest PSO.
    pso_min_rate_hz : float, Hz
        No PSO (and one-sample peaks) below this sampling rate.
    pursuit_velocity_deg_s, pursuit_window_ms, pursuit_min_ms : float
        Smooth pursuit criterion of :mod:`gazekit.events.pursuit` (0 disables).

    The shortest saccade is the post-processing's ``min_saccade_ms`` (10 ms here,
    Nyström & Holmqvist 2010), applied before the PSO search.
    """

    peak_start_deg_s: float = _help("Adaptive: start of the peak-threshold iteration (deg/s).", 100.0)
    peak_k_sd: float = _help("Adaptive: peak threshold in robust SDs above the noise.", 6.0)
    onset_k_sd: float = _help("Adaptive: onset threshold in robust SDs above the noise.", 3.0)
    context_ms: float = _help("Adaptive: context of the local thresholds (ms; 0: global).", 1000.0)
    min_peak_samples: int = _help("Adaptive: samples above the peak threshold a saccade needs.", 2)
    pso_window_ms: float = _help("Adaptive: a PSO starts within this time of the offset (ms).", 40.0)
    pso_max_ms: float = _help("Adaptive: longest PSO (ms).", 80.0)
    pso_min_rate_hz: float = _help("Adaptive: no PSO below this sampling rate (Hz).", 200.0)
    pursuit_velocity_deg_s: float = _help(
        "Adaptive: trend speed above which a fixation is pursuit (deg/s; 0: off).", 5.0
    )
    pursuit_window_ms: float = _help("Adaptive: window of the pursuit trend fit (ms).", 200.0)
    pursuit_min_ms: float = _help("Adaptive: shortest pursuit (ms).", 100.0)

    def __post_init__(self) -> None:
        _check_times(self)
        for name in ("peak_start_deg_s", "peak_k_sd", "onset_k_sd"):
            if not getattr(self, name) > 0:
                raise GazekitError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.onset_k_sd < self.peak_k_sd:
            raise GazekitError(
                f"onset_k_sd ({self.onset_k_sd}) must be below peak_k_sd ({self.peak_k_sd})"
            )
        for name in (
            "context_ms", "pso_window_ms", "pso_max_ms", "pso_min_rate_hz",
            "pursuit_velocity_deg_s", "pursuit_window_ms", "pursuit_min_ms",
        ):  # fmt: skip
            v = getattr(self, name)
            if not (v >= 0 and math.isfinite(v)):
                raise GazekitError(f"{name} must be a finite number >= 0, got {v}")
        if self.min_peak_samples < 1:
            raise GazekitError(f"min_peak_samples must be >= 1, got {self.min_peak_samples}")
        if self.pso_max_ms < self.pso_window_ms:
            raise GazekitError(
                f"pso_max_ms ({self.pso_max_ms}) must be at least pso_window_ms "
                f"({self.pso_window_ms})"
            )


@dataclass(frozen=True)
class EventParams:
    """Everything one detection run uses: the method and its three parameter sets."""

    method: str
    signal: SignalParams
    post: PostParams
    detector: Any

    def as_dict(self) -> dict[str, Any]:
        """Flat ``{name: value}`` of every parameter (stored in the events metadata)."""
        out: dict[str, Any] = {}
        for part in (self.signal, self.post, self.detector):
            out.update(dataclasses.asdict(part))
        return out


def field_types(cls: type) -> dict[str, type]:
    """``{field name: scalar type}`` of a parameter dataclass (``float | None`` → float)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        out[f.name] = tp
    return out


def coerce(name: str, tp: type, value: Any) -> Any:
    """``value`` as the field type ``tp`` (text from the command line is parsed).

    Raises
    ------
    GazekitError
        The value does not read as ``tp``.
    """
    if value is None:
        return None
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
        raise GazekitError(f"parameter {name} expects true or false, got {value!r}")
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise GazekitError(
            f"parameter {name} expects a number ({tp.__name__}), got {value!r}"
        ) from None
    if tp is int:
        if not number.is_integer():
            raise GazekitError(f"parameter {name} expects an integer, got {value!r}")
        return int(number)
    return number


def _build(cls: type, given: Mapping[str, Any], base: Any = None) -> Any:
    types_ = field_types(cls)
    kw = {k: coerce(k, types_[k], v) for k, v in given.items() if k in types_}
    if base is not None:
        return dataclasses.replace(base, **kw)
    return cls(**kw)


def accepted_names(method: str) -> list[str]:
    """Every parameter name ``method`` accepts, sorted.

    Parameters
    ----------
    method : str
        A registered detector (``ivt``, ``idt``, ``adaptive``).

    Returns
    -------
    list of str
        Field names of :class:`SignalParams`, :class:`PostParams` and the detector's own
        parameter class.

    Raises
    ------
    GazekitError
        Unknown method (the message lists the registered ones).
    """
    from gazekit.events.base import DETECTORS

    spec = DETECTORS.get(method)
    names = set()
    for cls in (SignalParams, PostParams, spec.params):
        names |= {f.name for f in dataclasses.fields(cls)}
    return sorted(names)


def resolve(method: str, /, **params: Any) -> EventParams:
    """Validate ``params`` for ``method`` and split them into the three parameter sets.

    Parameters
    ----------
    method : str
        A registered detector (``ivt``, ``idt``, ``adaptive``).
    **params
        Any field of :class:`SignalParams`, :class:`PostParams` or the detector's class;
        values may be text (``"30"``, ``"true"``) as from the command line.

    Returns
    -------
    EventParams

    Raises
    ------
    GazekitError
        Unknown method, unknown parameter name (the message lists the accepted ones),
        or a value that is not valid.
    """
    from gazekit.events.base import DETECTORS

    spec = DETECTORS.get(method)
    accepted = accepted_names(method)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise GazekitError(
            f"unknown parameter(s) {unknown} for event method {method!r}; accepted: {accepted}"
        )
    return EventParams(
        method=method,
        signal=_build(SignalParams, params),
        post=_build(PostParams, params, spec.post),
        detector=_build(spec.params, params),
    )


def validate_stage_params(params: Mapping[str, Any]) -> None:
    """Check the pipeline's ``events`` stage parameters (``method`` plus any of :func:`resolve`).

    Parameters
    ----------
    params : mapping of str -> object
        ``method`` (``"ivt"`` when absent) and parameter values, possibly as text from
        ``-p events.name=value``.

    Raises
    ------
    GazekitError
        As :func:`resolve`, naming the ``events.`` prefix of the pipeline option.
    """
    rest = dict(params)
    method = str(rest.pop("method", "ivt"))
    try:
        resolve(method, **rest)
    except GazekitError as exc:
        raise GazekitError(f"-p events.*: {exc}") from None
