"""Target-conditioned, image-free scanpath models on a fixation-only (GazeSearch) dataset."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gazekit.errors import InputError  # noqa: E402
from gazekit.io.convert import convert  # noqa: E402
from gazekit.metrics.presets import (  # noqa: E402
    GAZESEARCH,
    gazesearch_sed_labels,
    score_pair,
    stde_summed,
)
from gazekit.models import FINDINGS, ModelConfig, ScanpathModel, TrainConfig, load_corpus  # noqa: E402
from gazekit.models.splits import resolve_split  # noqa: E402
from gazekit.models.targets import (  # noqa: E402
    CentreRepeat,
    RandomHumanSameTarget,
    TargetDensity,
    TargetMeanScanpath,
)

FIXTURE = Path(__file__).parent / "data" / "gazesearch" / "gazesearch_sample.json"
TINY = ModelConfig(backbone="none", target_finding=True, d_model=16, n_heads=2, n_layers=1,
                   dropout=0.0, n_mixtures=2)  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("gs")
    src = tmp / "gs.json"
    shutil.copyfile(FIXTURE, src)
    convert([src], tmp / "ds")
    return tmp / "ds"


@pytest.fixture(scope="module")
def run(dataset, tmp_path_factory):
    from gazekit.models import train

    cfg = TrainConfig(task="scanpath", batch_size=8, max_steps=12, eval_every=6, warmup_steps=2,
                      leakage_unit="image_target", model=TINY)  # fmt: skip
    return train(dataset, cfg, tmp_path_factory.mktemp("run"), device="cpu")


def test_corpus_of_a_fixation_only_dataset_has_targets_splits_and_the_declared_frame(dataset):
    corpus = load_corpus(dataset)
    raw = json.loads(FIXTURE.read_text())
    assert len(corpus.examples) == len(raw) and not corpus.images
    e = corpus.examples[0]
    assert FINDINGS[e.target] == raw[0]["task"].replace(" ", "_")
    assert e.split == raw[0]["split"]
    assert corpus.image_shape[e.image_id] == (224, 224)
    np.testing.assert_allclose(e.xy[:, 0] * 224, raw[0]["X"], atol=1e-4)


def test_training_honours_the_given_split_and_its_image_target_unit(dataset, run):
    corpus = load_corpus(dataset)
    split = {e.recording_id: e.split for e in corpus.examples}
    assert {split[r] for r in run.split["train"]} == {"train"}
    assert {split[r] for r in run.split["val"]} == {"valid"}


def test_image_leakage_unit_refuses_the_published_split_which_shares_images(dataset):
    corpus = load_corpus(dataset)
    cfg = TrainConfig(task="scanpath", leakage_unit="image", model=TINY)
    with pytest.raises(InputError, match=r"share images with training.*image_target"):
        resolve_split(corpus, cfg)


def test_a_split_file_overrides_the_dataset_split(dataset, tmp_path):
    corpus = load_corpus(dataset)
    images = sorted({e.image_id for e in corpus.examples})
    f = tmp_path / "split.csv"
    f.write_text("image_id,split\n" + "".join(
        f"{im},{'valid' if k % 4 == 0 else 'train'}\n" for k, im in enumerate(images)))  # fmt: skip
    cfg = TrainConfig(task="scanpath", split_file=str(f), leakage_unit="image", model=TINY)
    tr, va, te = resolve_split(corpus, cfg)
    by_id = {e.recording_id: e.image_id for e in corpus.examples}
    assert {by_id[r] for r in va} == set(images[::4]) and not te
    assert not {by_id[r] for r in va} & {by_id[r] for r in tr}


def test_image_free_encoder_reads_only_the_batch_size():
    model = ScanpathModel(TINY).eval()
    assert not any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    a, _ = model.encoder(torch.zeros(3, 1, 1, 1))
    b, _ = model.encoder(torch.rand(3, 1, 64, 64))
    assert a.shape == (3, 16, 16) and torch.equal(a, b)


def test_an_image_backbone_on_an_image_free_dataset_is_refused(dataset, tmp_path):
    from gazekit.models import train

    cfg = TrainConfig(task="scanpath", max_steps=2, leakage_unit="image_target",
                      model=replace(TINY, backbone="cnn", image_size=32,
                                    encoder_channels=(8, 8, 8, 8)))  # fmt: skip
    with pytest.raises(InputError, match=r"needs images.*backbone 'none'"):
        train(dataset, cfg, tmp_path / "r", device="cpu")


def test_preset_evaluation_scores_the_model_and_every_per_target_baseline(dataset, run):
    from gazekit.models.preset_eval import evaluate_preset

    rows = evaluate_preset(run.checkpoint, dataset, eval_split="valid", n_samples=2,
                           decodings=("sample", "greedy"), n_boot=30)["rows"]  # fmt: skip
    main = rows[~rows["metric"].str.startswith("delta_")]
    predictors = set(main["model"])
    assert {"model (sample)", "model (greedy)", "centre x6", "target mean scanpath",
            "random human (same target)", "target density", "centre bias"} <= predictors  # fmt: skip
    for m in GAZESEARCH.metrics:
        vals = main[main["metric"] == m].set_index("model")["value"]
        assert set(vals.index) == predictors and np.isfinite(vals.to_numpy()).all(), m
    ig = main[main["metric"].str.startswith("ig_vs_")]
    assert set(ig["metric"]) == {"ig_vs_centre_bias", "ig_vs_target_density"}
    assert np.isfinite(ig["value"]).all() and (main["support"] > 0).all()


def test_preset_evaluation_conditions_the_model_on_each_recordings_target(
    dataset, run, monkeypatch
):
    from gazekit.models import preset_eval

    seen = []
    original = preset_eval.decode

    def spy(model, image, target, **kw):
        seen.append(target)
        return original(model, image, target, **kw)

    monkeypatch.setattr(preset_eval, "decode", spy)
    preset_eval.evaluate_preset(run.checkpoint, dataset, eval_split="valid", n_samples=1, n_boot=20)
    corpus = load_corpus(dataset)
    assert seen == [e.target for e in corpus.examples if e.split == "valid"]
    assert None not in seen and len(set(seen)) > 1


def test_predict_samples_every_image_target_pair_with_its_target(dataset, run):
    from gazekit.models import sample_scanpath_table

    df = sample_scanpath_table(run.checkpoint, dataset, n_samples=2, max_len=6)
    corpus = load_corpus(dataset)
    pairs = {(e.image_id, FINDINGS[e.target]) for e in corpus.examples}
    assert set(zip(df["image_id"], df["target"], strict=True)) == pairs
    assert df["x_px"].between(0, 224).all() and df["y_px"].between(0, 224).all()


# ------------------------------------------------------------------------- preset metrics
def _stde_reference(ref: np.ndarray, cand: np.ndarray, side: float) -> float:
    """FixaTons' definition written out with loops (summed window distance / k)."""
    a, b = ref[:, :2] / side, cand[:, :2] / side
    sims = []
    for k in range(1, min(len(a), len(b))):
        per_window = []
        for i in range(len(b) - k + 1):
            per_window.append(min(
                sum(math.dist(b[i + j], a[m + j]) for j in range(k)) / k
                for m in range(len(a) - k + 1)))  # fmt: skip
        sims.append(math.exp(-float(np.mean(per_window))))
    return float(np.mean(sims))


@pytest.mark.parametrize("seed", range(6))
def test_stde_matches_the_written_out_definition(seed):
    rng = np.random.default_rng(seed)
    na, nb = rng.integers(2, 9, size=2)
    a = np.column_stack([rng.uniform(0, 224, (na, 2)), np.full(na, 0.2)])
    b = np.column_stack([rng.uniform(0, 224, (nb, 2)), np.full(nb, 0.2)])
    assert stde_summed(a, b, (224, 224)) == pytest.approx(_stde_reference(a, b, 224), abs=1e-12)


def test_identical_scanpaths_score_perfectly_under_the_preset():
    p = np.array([[20.0, 30.0, 0.2], [150.0, 60.0, 0.3], [100.0, 200.0, 0.25]])
    s = score_pair(GAZESEARCH, p, p)
    assert s["sed"] == 0 and all(s[m] == pytest.approx(1.0) for m in s if m != "sed")


def test_the_benchmark_grid_overflows_at_220_px_where_the_exact_grid_clips():
    from gazekit.metrics.scanpath import grid_labels

    p = np.array([[221.0, 10.0, 0.2], [10.0, 221.0, 0.2], [219.0, 219.0, 0.2]])
    assert gazesearch_sed_labels(p).tolist() == [5, 25, 24]  # col 5 = next row's col 0
    assert grid_labels(p, frame_size=(224, 224), bins=(5, 5)).tolist() == [4, 20, 24]


# --------------------------------------------------------------------- per-target baselines
def test_per_target_baselines_use_only_the_target(dataset):
    corpus = load_corpus(dataset)
    train = [e for e in corpus.examples if e.split == "train"]
    held = next(e for e in corpus.examples if e.split == "valid")
    rng = np.random.default_rng(0)
    xy, dur = CentreRepeat(train).sample(held, rng)
    assert xy.shape == (6, 2) and (xy == 0.5).all() and (dur > 0).all()
    same = [e for e in train if e.target == held.target]
    mean_xy, _ = TargetMeanScanpath(train).sample(held, rng)
    np.testing.assert_allclose(mean_xy[0], np.mean([e.xy[0] for e in same], axis=0), rtol=1e-6)
    other = RandomHumanSameTarget(train)
    for _ in range(5):
        xy, _ = other.sample(held, rng)
        assert any(np.array_equal(xy, e.xy) for e in same if e.image_id != held.image_id)
    dens = TargetDensity(train)
    assert np.isfinite(dens.log_density(held, held.xy.astype(float))).all()
