"""Anatomy atlases: named region masks per image, with hierarchy (lung → zones).

>>> import numpy as np
>>> from gazekit.anatomy import Atlas
>>> m = np.zeros((2, 4, 4), bool); m[0, :, :2] = True; m[1, 2:, :2] = True
>>> a = Atlas(m, ("right_lung", "right_lower_zone"))
>>> a.lookup([0.0, 1.0], [3.0, 0.0]).tolist()
[[True, True], [True, False]]
"""

from __future__ import annotations

from gazekit.anatomy.atlas import Atlas
from gazekit.anatomy.loaders import (
    from_boxes,
    from_label_map,
    iter_chexmask,
    read_boxes,
    read_chest_box,
    read_chexmask,
    read_name_table,
    rle_decode,
    rle_encode,
    template_from_box,
    template_from_lungs,
)
from gazekit.anatomy.regions import DISPLAY_NAMES, HIERARCHY, REGIONS, children

__all__ = [
    "DISPLAY_NAMES",
    "HIERARCHY",
    "REGIONS",
    "Atlas",
    "children",
    "from_boxes",
    "from_label_map",
    "iter_chexmask",
    "read_boxes",
    "read_chest_box",
    "read_chexmask",
    "read_name_table",
    "rle_decode",
    "rle_encode",
    "template_from_box",
    "template_from_lungs",
]
