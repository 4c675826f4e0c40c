"""The stage interface of the corpus pipeline.

A pipeline is a *source stage* (``convert``: one source file or directory → a list
of :class:`~gazekit.recording.Recording`) followed by *recording stages*, each a pure
function of one recording, the tables earlier stages produced for it, and its
parameters, returning new tables::

    def detect_events(inputs: StageInput, *, method="ivt") -> dict[str, pd.DataFrame]:
        return {"events": gazekit.events.detect(inputs.recording, method=method)}

Stages are plain picklable objects, so the same task runs in-process, in a process
pool or on a dask.distributed worker. A stage's cache key chains the source's
content hash with the name, version and parameters of every stage up to it, so
changing one stage's parameters invalidates exactly that stage and those after it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gazekit.errors import GazekitError
from gazekit.io.layout import digest
from gazekit.recording import Recording
from gazekit.registry import Registry

#: Pseudo schema kind of an array output: the stage returns a dict of ndarrays, written
#: as ``<table>/corpus=…/reader=…/<recording_id>.npz`` (read with :meth:`Dataset.arrays`).
ARRAYS = "npz"

#: Tables the source stage writes for every recording: table name -> schema kind.
#: ``tracker_events`` are the tracker-reported events; the ``events`` stage writes the
#: complete ``events`` table (tracker rows plus detected rows), as in a flat dataset.
CONVERT_TABLES: dict[str, str] = {
    "recordings": "recordings",
    "samples": "samples",
    "tracker_events": "events",
    "transcripts": "transcripts",
    "findings": "findings",
}


@dataclass(frozen=True)
class StageInput:
    """What a recording stage sees.

    Attributes
    ----------
    recording : Recording
        The converted recording (samples, geometry, tracker events, transcript, findings).
    tables : mapping of str to pandas.DataFrame
        Tables written for this recording by earlier stages, by table name.
    source : pathlib.Path
        The folder the recording's source lies in (for side folders such as
        ``anatomy/`` in it or above it): a converted dataset's root, a tracker file's
        folder, a corpus folder or reading directory.
    cache_dir : pathlib.Path or None
        The output dataset's cache directory, for derived files shared by all
        workers (e.g. memory-mapped atlases).
    """

    recording: Recording
    tables: Mapping[str, pd.DataFrame]
    source: Path
    cache_dir: Path | None = None


@dataclass(frozen=True)
class Stage:
    """One recording stage.

    Parameters
    ----------
    name : str
    func : callable
        ``func(inputs: StageInput, **params) -> dict[table name, DataFrame]``.
    produces : mapping of str to str
        Table name -> schema kind of every table the stage may return
        (:data:`ARRAYS` for a dict of arrays saved as ``.npz``).
    needs : sequence of str
        Tables of earlier stages it reads (checked when the pipeline is built, and
        loaded from disk when an earlier stage is up to date).
    uses : sequence of str
        Tables it reads when an earlier stage of the pipeline produces them (not
        required; e.g. detected events, falling back to tracker events).
    defaults : mapping
        Default parameters; user parameters override them key by key.
    version : str
        Bump when the stage's code changes its output; part of the cache key.
    open_params : bool
        Accept parameters beyond ``defaults`` (passed on, e.g. to the chosen
        detector); otherwise an unknown parameter is an error.
    check : callable, optional
        ``check(resolved_params)`` raising :class:`GazekitError` on a bad parameter;
        called by :func:`build_plan`, before any work.
    """

    name: str
    func: Callable[..., dict[str, pd.DataFrame]]
    produces: Mapping[str, str]
    needs: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    version: str = "1"
    open_params: bool = False
    uses: tuple[str, ...] = ()
    check: Callable[[Mapping[str, Any]], None] | None = None


@dataclass(frozen=True)
class SourceStage:
    """The conversion stage: ``func(unit, **params) -> list[Recording]``.

    ``unit`` is a :class:`gazekit.pipeline.sources.Unit`; parameters (reader options)
    are passed through unchecked.
    """

    func: Callable[..., list[Recording]]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    version: str = "1"
    name: str = "convert"
    open_params: bool = True


#: Recording stages by name (the default chain registers ``events``, ``anatomy``, ``intent``).
STAGES: Registry[Stage] = Registry("pipeline stage")


def _chain(key: str, param_hash: str) -> str:
    """``digest(key, param_hash)`` for two hex strings, without the generic JSON walk."""
    text = json.dumps([key, param_hash], separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Plan:
    """A validated stage chain with resolved parameters (what a worker executes)."""

    convert: SourceStage
    stages: tuple[Stage, ...]
    params: Mapping[str, Mapping[str, Any]]
    _hashes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def names(self) -> list[str]:
        """Stage names in execution order, ``convert`` first."""
        return [self.convert.name, *(s.name for s in self.stages)]

    def param_hash(self, name: str) -> str:
        """Hash of one stage's version and resolved parameters (computed once per plan)."""
        if name not in self._hashes:
            stage = self.convert if name == self.convert.name else self.stage(name)
            self._hashes[name] = digest(name, stage.version, self.params.get(name, {}))
        return self._hashes[name]

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def keys(self, content: str) -> dict[str, str]:
        """Cache key of every stage for a source with content hash ``content``."""
        key = _chain(content, self.param_hash(self.convert.name))
        keys = {self.convert.name: key}
        for s in self.stages:
            key = _chain(key, self.param_hash(s.name))
            keys[s.name] = key
        return keys

    def tables(self) -> dict[str, str]:
        """Every table the plan writes: name -> schema kind."""
        out = dict(CONVERT_TABLES)
        for s in self.stages:
            out.update(s.produces)
        return out


def resolve_plan(
    convert: SourceStage,
    stages: Sequence[str | Stage],
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> Plan:
    """Resolve stage names and parameters into a :class:`Plan`.

    Parameters
    ----------
    convert : SourceStage
        The source stage.
    stages : sequence of str or Stage
        Recording stages in order; names are looked up in :data:`STAGES`.
    params : mapping, optional
        ``{stage name: {parameter: value}}``, overriding each stage's defaults.

    Returns
    -------
    Plan

    Raises
    ------
    GazekitError
        On an unknown stage or parameter, a duplicated stage or table, or a stage
        needing a table no earlier stage produces.
    """
    resolved = tuple(STAGES.get(s) if isinstance(s, str) else s for s in stages)
    params = {k: dict(v) for k, v in (params or {}).items()}
    names = [convert.name, *(s.name for s in resolved)]
    if len(set(names)) != len(names):
        raise GazekitError(f"pipeline stage names must be unique, got {names}")
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise GazekitError(f"parameters given for stage(s) not in the pipeline: {unknown}")
    available = set(CONVERT_TABLES)
    for s in resolved:
        missing = [t for t in s.needs if t not in available]
        if missing:
            raise GazekitError(
                f"stage {s.name!r} needs table(s) {missing}, which no earlier stage produces"
            )
        clash = sorted(set(s.produces) & available)
        if clash:
            raise GazekitError(f"stage {s.name!r} would overwrite table(s) {clash}")
        available |= set(s.produces)
    resolved_params: dict[str, dict[str, Any]] = {}
    for s in (convert, *resolved):
        given = params.get(s.name, {})
        if not s.open_params:
            extra = sorted(set(given) - set(s.defaults))
            if extra:
                raise GazekitError(
                    f"unknown parameter(s) {extra} for stage {s.name!r}; "
                    f"known: {sorted(s.defaults)}"
                )
        resolved_params[s.name] = {**s.defaults, **given}
        check = getattr(s, "check", None)
        if check is not None:
            check(resolved_params[s.name])
    return Plan(convert=convert, stages=resolved, params=resolved_params)


def parse_param(text: str) -> tuple[str, str, Any]:
    """Parse ``"stage.name=value"``; the value is read as JSON when it parses, else text."""

    key, sep, value = text.partition("=")
    stage, dot, name = key.partition(".")
    if not sep or not dot or not stage or not name:
        raise GazekitError(f"expected STAGE.PARAM=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return stage.strip(), name.strip(), parsed


def relpath(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """``path`` relative to ``root`` with forward slashes (stored in the manifest)."""
    return Path(os.path.relpath(path, root)).as_posix()
