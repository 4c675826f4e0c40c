"""Writing recordings in tracker/corpus formats (the inverse of the readers).

``write(recordings, outdir, fmt)`` dispatches to the writer registered for ``fmt``
in :data:`gazekit.io.base.WRITERS`; each format module registers its own.
"""

from __future__ import annotations

from gazekit.io.base import WRITERS, write

__all__ = ["WRITERS", "write"]
