"""Finding vocabularies of the public corpora and the mapping between them.

* :data:`GAZEINTENT_FINDINGS` — the 13 findings of RadGazeIntent/GazeIntent, in that
  code's order (the multi-hot column order gazekit's intent tables use by default).
* :data:`REFLACX_LABELS` — REFLACX phase 2–3 ellipse labels; :data:`REFLACX_PHASE1_LABELS`
  — the labels only phase 1 used.
* :data:`EGD_LABELS` — EGD-CXR's diagnosis classes and the CheXpert labels of its
  master sheet.
* :data:`SYNONYMS` — words and phrases a radiologist dictates for each GazeIntent
  finding, used to find when a finding is mentioned in a timed transcript.
"""

from __future__ import annotations

import re
from functools import cache

GAZEINTENT_FINDINGS: tuple[str, ...] = (
    "pleural_effusion",
    "pleural_other",
    "pneumonia",
    "fracture",
    "consolidation",
    "pneumothorax",
    "lung_lesion",
    "edema",
    "enlarged_cardiomediastinum",
    "atelectasis",
    "support_devices",
    "lung_opacity",
    "cardiomegaly",
)

REFLACX_LABELS: tuple[str, ...] = (
    "Support devices",
    "Abnormal mediastinal contour",
    "Enlarged cardiac silhouette",
    "Enlarged hilum",
    "Hiatal hernia",
    "Pneumothorax",
    "Pleural abnormality",
    "Consolidation",
    "Groundglass opacity",
    "Atelectasis",
    "Lung nodule or mass",
    "Pulmonary edema",
    "High lung volume / emphysema",
    "Interstitial lung disease",
    "Acute fracture",
    "Other",
)

#: Labels only REFLACX phase 1 used (the corpus writes label names with the first letter
#: capitalised); phase 1 shared Atelectasis, Consolidation, Enlarged cardiac silhouette,
#: Groundglass opacity, Pneumothorax, Pulmonary edema, Support devices and Other with
#: phases 2–3. ``Quality issue`` is an image-quality flag, not a finding.
REFLACX_PHASE1_LABELS: tuple[str, ...] = (
    "Pleural effusion",
    "Nodule",
    "Mass",
    "Wide mediastinum",
    "Airway wall thickening",
    "Emphysema",
    "Fibrosis",
    "Fracture",
    "Pleural thickening",
    "Quality issue",
)

#: EGD-CXR diagnosis classes (master sheet) and its 14 CheXpert labels (``__chx`` columns).
EGD_LABELS: tuple[str, ...] = (
    "Normal",
    "CHF",
    "pneumonia",
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Enlarged Cardiomediastinum",
    "Fracture",
    "Lung Lesion",
    "Lung Opacity",
    "No Finding",
    "Pleural Effusion",
    "Pleural Other",
    "Pneumonia",
    "Pneumothorax",
    "Support Devices",
)

#: REFLACX label -> GazeIntent finding (None: no counterpart).
REFLACX_TO_GAZEINTENT: dict[str, str | None] = {
    "Support devices": "support_devices",
    "Abnormal mediastinal contour": "enlarged_cardiomediastinum",
    "Enlarged cardiac silhouette": "cardiomegaly",
    "Enlarged hilum": "enlarged_cardiomediastinum",
    "Hiatal hernia": None,
    "Pneumothorax": "pneumothorax",
    "Pleural abnormality": "pleural_effusion",
    "Consolidation": "consolidation",
    "Groundglass opacity": "lung_opacity",
    "Atelectasis": "atelectasis",
    "Lung nodule or mass": "lung_lesion",
    "Pulmonary edema": "edema",
    "High lung volume / emphysema": None,
    "Interstitial lung disease": "lung_opacity",
    "Acute fracture": "fracture",
    "Other": None,
    # phase 1 (the same reading of each label as its phase 2-3 successor):
    "Pleural effusion": "pleural_effusion",
    "Nodule": "lung_lesion",  # CheXpert "Lung Lesion": nodule or mass
    "Mass": "lung_lesion",
    "Wide mediastinum": "enlarged_cardiomediastinum",
    "Airway wall thickening": None,  # no GazeIntent counterpart
    "Emphysema": None,  # as "High lung volume / emphysema"
    "Fibrosis": "lung_opacity",  # as "Interstitial lung disease"
    "Fracture": "fracture",
    "Pleural thickening": "pleural_other",  # CheXpert "Pleural Other"
    "Quality issue": None,  # an image-quality flag, not a finding
}

#: REFLACX labels with no GazeIntent counterpart (findings dropped by the intent labellers).
REFLACX_UNMAPPED: tuple[str, ...] = tuple(k for k, v in REFLACX_TO_GAZEINTENT.items() if v is None)

#: EGD-CXR / CheXpert label -> GazeIntent finding (None: no counterpart).
EGD_TO_GAZEINTENT: dict[str, str | None] = {
    "Normal": None,
    "No Finding": None,
    "CHF": "edema",
    "pneumonia": "pneumonia",
    "Pneumonia": "pneumonia",
    "Atelectasis": "atelectasis",
    "Cardiomegaly": "cardiomegaly",
    "Consolidation": "consolidation",
    "Edema": "edema",
    "Enlarged Cardiomediastinum": "enlarged_cardiomediastinum",
    "Fracture": "fracture",
    "Lung Lesion": "lung_lesion",
    "Lung Opacity": "lung_opacity",
    "Pleural Effusion": "pleural_effusion",
    "Pleural Other": "pleural_other",
    "Pneumothorax": "pneumothorax",
    "Support Devices": "support_devices",
}

#: Dictation keywords for each GazeIntent finding (lower case, matched on word boundaries).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "pleural_effusion": ("pleural effusion", "effusion", "effusions", "blunting"),
    "pleural_other": ("pleural thickening", "pleural plaque", "pleural scarring"),
    "pneumonia": ("pneumonia", "infection", "infectious process"),
    "fracture": ("fracture", "fractures", "fractured"),
    "consolidation": ("consolidation", "consolidative", "airspace disease"),
    "pneumothorax": ("pneumothorax",),
    "lung_lesion": ("nodule", "nodules", "mass", "lesion", "nodular"),
    "edema": ("edema", "oedema", "vascular congestion", "interstitial markings"),
    "enlarged_cardiomediastinum": (
        "mediastinal widening",
        "widened mediastinum",
        "mediastinal contour",
        "enlarged hilum",
        "hilar enlargement",
    ),
    "atelectasis": ("atelectasis", "atelectatic", "volume loss", "collapse"),
    "support_devices": ("tube", "catheter", "line", "pacemaker", "device", "devices", "wires"),
    "lung_opacity": (
        "opacity",
        "opacities",
        "opacification",
        "haziness",
        "ground glass",
        "groundglass",
    ),
    "cardiomegaly": (
        "cardiomegaly",
        "enlarged heart",
        "heart is enlarged",
        "cardiac enlargement",
        "enlarged cardiac silhouette",
    ),
}

_NEGATIONS = ("no ", "without ", "negative for ", "free of ", "resolved ")


def to_gazeintent(label: str, corpus: str = "reflacx") -> str | None:
    """Map a REFLACX or EGD-CXR label to its GazeIntent finding (``None`` if none).

    Parameters
    ----------
    label : str
        A corpus label as written in the corpus (``"Enlarged cardiac silhouette"``), or
        already a GazeIntent finding name (returned as is).
    corpus : {"reflacx", "egd"}
        Which corpus table to use (anything other than ``"reflacx"`` uses EGD-CXR's).

    Returns
    -------
    str or None
        A name of :data:`GAZEINTENT_FINDINGS`, or ``None`` for a label with no
        GazeIntent counterpart (``"Hiatal hernia"``).

    Raises
    ------
    KeyError
        Unknown labels, naming the label, so a typo never maps silently.

    Examples
    --------
    >>> to_gazeintent("Enlarged cardiac silhouette")
    'cardiomegaly'
    >>> to_gazeintent("Hiatal hernia") is None
    True
    """
    table = REFLACX_TO_GAZEINTENT if corpus == "reflacx" else EGD_TO_GAZEINTENT
    if label in GAZEINTENT_FINDINGS:
        return label
    if label not in table:
        raise KeyError(f"unknown {corpus} finding label {label!r}")
    return table[label]


@cache
def _pattern(finding: str) -> re.Pattern[str]:
    words = sorted(SYNONYMS[finding], key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b")


def mentioned_findings(text: str, *, skip_negated: bool = True) -> list[str]:
    """GazeIntent findings a dictated phrase mentions, in vocabulary order.

    A finding is mentioned when one of its :data:`SYNONYMS` appears as whole words
    (case-insensitive). A mention preceded in the same clause (text since the last
    ``.``, ``,`` or ``;``) by a negation ("no pneumothorax") is skipped when
    ``skip_negated``.

    Parameters
    ----------
    text : str
        Dictated text (a phrase or a whole report).
    skip_negated : bool
        Skip negated mentions.

    Returns
    -------
    list of str
        Names of :data:`GAZEINTENT_FINDINGS`, each at most once.

    Examples
    --------
    >>> mentioned_findings("Small left pleural effusion. No pneumothorax.")
    ['pleural_effusion']
    """
    low = text.lower()
    out = []
    for f in GAZEINTENT_FINDINGS:
        for m in _pattern(f).finditer(low):
            clause_start = max(
                low.rfind(".", 0, m.start()),
                low.rfind(",", 0, m.start()),
                low.rfind(";", 0, m.start()),
            )
            clause = low[clause_start + 1 : m.start()]
            if skip_negated and any(n in " " + clause for n in _NEGATIONS):
                continue
            out.append(f)
            break
    return out
