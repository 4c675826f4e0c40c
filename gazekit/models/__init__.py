"""Transformer models for radiologists' gaze: per-fixation intent and scanpath prediction.

Importing :mod:`gazekit.models` imports torch (``import gazekit`` does not).

* :class:`ImageEncoder` — compact CNN from scratch (or a timm backbone with local weights)
  → a grid of image tokens; :class:`FeatureCache` reuses its outputs per image id while
  the weights are unchanged;
* :class:`IntentModel` — fixation tokens (position, duration, time, anatomy region and the
  image feature at the fixation) and a global image token → per-fixation multi-label
  finding probabilities;
* :class:`ScanpathModel` — autoregressive decoder with a Gaussian-mixture position head,
  log-normal durations and a stop probability; :meth:`ScanpathModel.sample` draws scanpaths;
* every model's ``forward(batch)`` returns ``(output, loss)`` (the loss is written once,
  and DDP wraps that one call);
* :func:`train` (one entry point for CPU, GPU and ``torchrun``), :func:`load_checkpoint`,
  :func:`evaluate_intent`, :func:`evaluate_scanpath` (held-out split, fair baselines and an
  oracle in the same run, bootstrap confidence intervals over images),
  :func:`predict_intent_table`, :func:`sample_scanpath_table`.
"""

from __future__ import annotations

from gazekit.models.data import FINDINGS, REGIONS, Corpus, Example, load_corpus, split_recordings
from gazekit.models.evaluate import evaluate_intent, format_tables, predict_intent
from gazekit.models.evaluate_scanpath import evaluate_scanpath
from gazekit.models.nn import FeatureCache, ImageEncoder, IntentModel, ModelConfig, ScanpathModel
from gazekit.models.predict import predict_intent_table, sample_scanpath_table
from gazekit.models.train import RunResult, TrainConfig, config_path, load_checkpoint, train

__all__ = [
    "FINDINGS",
    "REGIONS",
    "Corpus",
    "Example",
    "FeatureCache",
    "ImageEncoder",
    "IntentModel",
    "ModelConfig",
    "RunResult",
    "ScanpathModel",
    "TrainConfig",
    "config_path",
    "evaluate_intent",
    "evaluate_scanpath",
    "format_tables",
    "load_checkpoint",
    "load_corpus",
    "predict_intent",
    "predict_intent_table",
    "sample_scanpath_table",
    "split_recordings",
    "train",
]
