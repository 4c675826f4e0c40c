"""Canonical anatomy region names and their hierarchy.

Names are from the patient's point of view, as radiologists speak: on a
postero-anterior (PA) chest radiograph the patient's **right** lung is on the
**left** side of the image. Every atlas, loader and the synthetic phantom use
these names.
"""

from __future__ import annotations

#: Region name -> parent region (None for top level).
HIERARCHY: dict[str, str | None] = {
    "right_lung": None,
    "left_lung": None,
    "right_upper_zone": "right_lung",
    "right_middle_zone": "right_lung",
    "right_lower_zone": "right_lung",
    "left_upper_zone": "left_lung",
    "left_middle_zone": "left_lung",
    "left_lower_zone": "left_lung",
    "right_hilum": "right_lung",
    "left_hilum": "left_lung",
    "right_costophrenic_angle": "right_lung",
    "left_costophrenic_angle": "left_lung",
    "heart": None,
    "mediastinum": None,
    "trachea": "mediastinum",
    "right_hemidiaphragm": None,
    "left_hemidiaphragm": None,
}

#: All region names in a fixed order (the stacked heatmap axis order).
REGIONS: tuple[str, ...] = tuple(HIERARCHY)

#: Readable labels for plots and tables.
DISPLAY_NAMES: dict[str, str] = {name: name.replace("_", " ") for name in REGIONS}


def children(name: str) -> list[str]:
    """Direct sub-regions of ``name``.

    Parameters
    ----------
    name : str
        A region of :data:`REGIONS`, such as ``"right_lung"``.

    Returns
    -------
    list of str
        Its direct children in :data:`HIERARCHY`, in :data:`REGIONS` order; empty for a
        leaf or an unknown name.

    Examples
    --------
    >>> children("mediastinum")
    ['trachea']
    """
    return [r for r, p in HIERARCHY.items() if p == name]
