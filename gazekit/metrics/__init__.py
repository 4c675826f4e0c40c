"""Evaluation metrics: saliency (``saliency``), scanpath (``scanpath``), classification
(``classification``) and event-detection agreement (``agreement``).

Import the submodule you need, e.g. ``from gazekit.metrics import saliency``.
"""
