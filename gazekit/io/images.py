"""Reading radiograph and label images safely: size checked before decoding.

A compressed image can declare any size: an 875 KB PNG may decode to 30000² px
(900 MB as 8-bit, several GB once converted). :func:`read_image` reads only the
header first (Pillow, lazily) and refuses images larger than :data:`MAX_IMAGE_PX`
pixels or files that are not regular files, so a hostile image costs nothing.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from gazekit.errors import InputError

#: Largest image accepted, in pixels. Digital chest radiographs are at most about
#: 4300 × 4300 px (43 cm detector, 0.1 mm pixel pitch: 18.5 Mpx); 8192² (67 Mpx)
#: leaves room for any real radiograph and bounds a decode to ~270 MB as float32.
MAX_IMAGE_PX = 8192 * 8192


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Width and height (px) from an image file's header, without decoding it.

    Parameters
    ----------
    path : str or PathLike
        PNG, JPEG, TIFF, ... (anything Pillow identifies).

    Returns
    -------
    (int, int)
        ``(width, height)`` in pixels.

    Raises
    ------
    InputError
        Not a regular file, or not an image Pillow can identify.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise InputError("not a regular file (expected an image)", path=p)
    try:
        with warnings.catch_warnings():  # the size is checked by the caller, not by Pillow
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                return int(im.size[0]), int(im.size[1])
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"not a readable image ({exc.__class__.__name__})", path=p) from None
    except Image.DecompressionBombError:
        raise InputError(f"image declares more than {MAX_IMAGE_PX} px", path=p) from None


def read_image(path: str | os.PathLike[str], *, grayscale: bool = True) -> np.ndarray:
    """Decode an image after checking its declared size.

    Parameters
    ----------
    path : str or PathLike
        Image file.
    grayscale : bool
        Decode as 8-bit grey (radiographs); otherwise unchanged (label maps keep
        their integer labels and bit depth).

    Returns
    -------
    (H, W) or (H, W, C) ndarray
        ``uint8`` grey when ``grayscale``; otherwise the file's own dtype.

    Raises
    ------
    InputError
        Not a regular file, unreadable, or larger than :data:`MAX_IMAGE_PX`.
    """
    import cv2

    w, h = image_size(path)
    if w <= 0 or h <= 0 or w * h > MAX_IMAGE_PX:
        raise InputError(
            f"image declares {w}×{h} px; at most {MAX_IMAGE_PX:,} px are accepted "
            "(no real radiograph is larger)",
            path=path,
        )
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if grayscale else cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError("cannot decode image", path=path)
    return image
