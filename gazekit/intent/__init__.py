"""Diagnostic-intention labels for fixations (RadGazeIntent regimes) and vocabularies."""

from gazekit.intent.corpus import label_dataset
from gazekit.intent.labellers import (
    REGIMES,
    IntentParams,
    IntentWarning,
    inside_regions,
    label_fixations,
    labellers,
    phrases_from_words,
    summarize,
    to_multihot,
)
from gazekit.vocab import (
    EGD_LABELS,
    EGD_TO_GAZEINTENT,
    GAZEINTENT_FINDINGS,
    REFLACX_LABELS,
    REFLACX_TO_GAZEINTENT,
    mentioned_findings,
    to_gazeintent,
)

__all__ = [
    "EGD_LABELS",
    "EGD_TO_GAZEINTENT",
    "GAZEINTENT_FINDINGS",
    "REFLACX_LABELS",
    "REFLACX_TO_GAZEINTENT",
    "REGIMES",
    "IntentParams",
    "IntentWarning",
    "inside_regions",
    "label_dataset",
    "label_fixations",
    "labellers",
    "mentioned_findings",
    "phrases_from_words",
    "summarize",
    "to_gazeintent",
    "to_multihot",
]
