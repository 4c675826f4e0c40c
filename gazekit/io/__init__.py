"""Readers and writers: tracker/corpus formats in, validated Parquet out."""

from __future__ import annotations

from gazekit.io.base import READERS, WRITERS, detect_format, read, write
from gazekit.io.parquet import (
    atomic_open,
    atomic_path,
    read_frame,
    read_metadata,
    read_table,
    write_table,
)

__all__ = [
    "READERS",
    "WRITERS",
    "atomic_open",
    "atomic_path",
    "detect_format",
    "read",
    "read_frame",
    "read_metadata",
    "read_table",
    "write",
    "write_table",
]
