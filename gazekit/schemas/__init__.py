"""Table schemas, loaded from the JSON files in ``data_schemas/`` (the single source of truth).

Each schema file names its columns with Arrow type, unit, nullability, whether the
column is required, and a description, plus a semantic version. This module turns
them into :class:`pyarrow.Schema` objects and validates tables against them; no
column list is written a second time in code.

Examples
--------
>>> from gazekit import schemas
>>> s = schemas.get("samples")
>>> s.required[:3]
['t_ms', 'x_px', 'y_px']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from gazekit.errors import SchemaError

_TYPES: dict[str, pa.DataType] = {
    "float64": pa.float64(),
    "float32": pa.float32(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "int16": pa.int16(),
    "int8": pa.int8(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "list<float32>": pa.list_(pa.float32()),
    "list<string>": pa.list_(pa.string()),
}


@dataclass(frozen=True)
class Column:
    """One column of a table schema."""

    name: str
    type: str
    unit: str | None
    nullable: bool
    required: bool
    description: str

    @property
    def arrow_type(self) -> pa.DataType:
        return _TYPES[self.type]


@dataclass(frozen=True)
class TableSchema:
    """A versioned table schema from ``data_schemas/<name>.json``."""

    name: str
    version: str
    description: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def arrow_schema(self, present: list[str] | None = None) -> pa.Schema:
        """Arrow schema of the required columns plus the optional ones in ``present``."""
        keep = set(self.required) | set(present or [])
        return pa.schema(
            [
                pa.field(c.name, c.arrow_type, nullable=c.nullable)
                for c in self.columns
                if c.name in keep
            ]
        )

    def conform(self, data: pa.Table | pd.DataFrame, source: str | None = None) -> pa.Table:
        """Validate ``data`` and return it as an Arrow table in schema column order and types.

        Raises
        ------
        SchemaError
            Naming the table, source and column on a missing required column, an
            unknown column, a value that cannot be cast, or a null in a non-nullable column.
        """
        if isinstance(data, pd.DataFrame):
            data = _frame_to_arrow(data, self, source)
        where = f"{self.name} table"
        missing = [n for n in self.required if n not in data.column_names]
        if missing:
            raise SchemaError(
                f"{where} lacks required column(s) {missing}", path=source, column=missing[0]
            )
        unknown = [n for n in data.column_names if n not in self.names]
        if unknown:
            raise SchemaError(
                f"{where} has column(s) not in schema {self.name} v{self.version}: {unknown}",
                path=source,
                column=unknown[0],
            )
        arrays = []
        fields_ = []
        for c in self.columns:
            if c.name not in data.column_names:
                continue
            arr = data.column(c.name)
            if arr.type != c.arrow_type:
                try:
                    arr = arr.cast(c.arrow_type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise SchemaError(
                        f"{where}: cannot convert {arr.type} to {c.type}: {exc}",
                        path=source,
                        column=c.name,
                    ) from None
            if not c.nullable and arr.null_count:
                raise SchemaError(
                    f"{where}: {arr.null_count} null value(s) in non-nullable column",
                    path=source,
                    column=c.name,
                )
            arrays.append(arr)
            fields_.append(pa.field(c.name, c.arrow_type, nullable=c.nullable))
        return pa.Table.from_arrays(
            arrays, schema=pa.schema(fields_, metadata=data.schema.metadata)
        )

    def empty(self) -> pa.Table:
        """A zero-row table with the required columns."""
        return self.arrow_schema().empty_table()


def _frame_to_arrow(df: pd.DataFrame, schema: TableSchema, source: str | None) -> pa.Table:
    fixed = {}
    for name in df.columns:
        s = df[name]
        if name in schema.names and schema.column(name).type == "float64" and s.dtype == object:
            try:
                fixed[name] = pd.to_numeric(s)
            except (TypeError, ValueError):
                raise SchemaError(
                    f"{schema.name} table: non-numeric values", path=source, column=name
                ) from None
    if fixed:
        df = df.assign(**fixed)
    try:
        # one thread: per-recording tables are small, a thread pool per call costs more
        return pa.Table.from_pandas(df, preserve_index=False, nthreads=1)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise SchemaError(f"{schema.name} table: {exc}", path=source) from None


@cache
def _load(name: str) -> TableSchema:
    try:
        text = resources.files("gazekit.data_schemas").joinpath(f"{name}.json").read_text("utf-8")
    except FileNotFoundError:
        raise SchemaError(f"no schema named {name!r}; known: {names()}") from None
    raw = json.loads(text)
    cols = tuple(
        Column(
            name=c["name"],
            type=c["type"],
            unit=c.get("unit"),
            nullable=bool(c["nullable"]),
            required=bool(c.get("required", True)),
            description=c["description"],
        )
        for c in raw["columns"]
    )
    return TableSchema(
        name=raw["name"], version=raw["version"], description=raw["description"], columns=cols
    )


def get(name: str) -> TableSchema:
    """Schema named ``name`` (``samples``, ``events``, ``recordings``, ...)."""
    return _load(name)


def names() -> list[str]:
    """Names of all schemas shipped in ``data_schemas/``."""
    root = resources.files("gazekit.data_schemas")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".json"))


def conform(data: pa.Table | pd.DataFrame, name: str, source: str | None = None) -> pa.Table:
    """Shortcut for ``get(name).conform(data, source)``."""
    return get(name).conform(data, source)


def jsonable(obj: Any) -> Any:
    """Turn NumPy scalars/arrays inside ``obj`` into plain JSON values (NaN → None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and obj != obj:
        return None
    return obj
