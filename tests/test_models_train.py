"""Model plumbing on CPU: configs (JSON/TOML), the encoder feature cache, backbones, sampling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gazekit.errors import InputError  # noqa: E402
from gazekit.models import (  # noqa: E402
    FeatureCache,
    ImageEncoder,
    ModelConfig,
    ScanpathModel,
    TrainConfig,
    config_path,
)

SMALL = ModelConfig(image_size=32, d_model=16, n_heads=2, n_layers=1, dropout=0.0,
                    encoder_channels=(8, 8, 16, 16), n_mixtures=2)  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_toml_and_json_configs_give_the_same_training_config(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text(
        "batch_size = 8\nlr = 0.001\nmax_steps = 12\nsplit = [0.5, 0.25, 0.25]\n\n"
        "[model]\nimage_size = 32\nd_model = 16\nencoder_channels = [8, 8, 16, 16]\n"
    )
    a = TrainConfig.load(toml, seed=3)
    json_path = tmp_path / "c.json"
    json_path.write_text(
        '{"batch_size": 8, "lr": 0.001, "max_steps": 12, "split": [0.5, 0.25, 0.25],'
        ' "model": {"image_size": 32, "d_model": 16, "encoder_channels": [8, 8, 16, 16]}}'
    )
    b = TrainConfig.load(json_path, seed=3)
    assert a == b
    assert a.seed == 3 and a.model.encoder_channels == (8, 8, 16, 16)
    assert TrainConfig.from_dict(a.to_dict()) == a


@pytest.mark.parametrize(
    "text, suffix",
    [
        pytest.param("batch_size = ", ".toml", id="broken_toml"),
        pytest.param("{", ".json", id="broken_json"),
        pytest.param('{"no_such_key": 1}', ".json", id="unknown_key"),
    ],
)
def test_bad_config_is_an_input_error(tmp_path, text, suffix):
    p = tmp_path / f"c{suffix}"
    p.write_text(text)
    with pytest.raises(InputError):
        TrainConfig.load(p)


@pytest.mark.parametrize("name", ["tiny", "base"])
def test_shipped_configs_build_both_models(name):
    cfg = TrainConfig.load(config_path(name))
    side = cfg.model.image_size // 2 ** len(cfg.model.encoder_channels)
    enc = ImageEncoder(cfg.model)
    assert enc.pos.shape == (1, side * side, cfg.model.d_model)


def test_feature_cache_reuses_features_until_the_weights_change():
    torch.manual_seed(0)
    enc = ImageEncoder(SMALL)
    cache = FeatureCache()
    img = torch.rand(1, 1, 32, 32)
    t1, _ = cache.get(enc, "img0", img)
    t2, _ = cache.get(enc, "img0", img)
    assert t1 is t2 and len(cache) == 1
    opt = torch.optim.SGD(enc.parameters(), lr=0.5)
    enc(img)[0].square().sum().backward()
    opt.step()
    t3, _ = cache.get(enc, "img0", img)
    assert t3 is not t1 and not torch.allclose(t1, t3)
    torch.testing.assert_close(t3, enc(img)[0].detach())


def test_sampling_with_cached_features_equals_sampling_from_the_image():
    torch.manual_seed(1)
    m = ScanpathModel(SMALL)
    img = torch.rand(1, 1, 32, 32)
    feats = FeatureCache().get(m.encoder, "img0", img)
    a = m.sample(img, n_samples=2, max_len=6, generator=torch.Generator().manual_seed(5))
    b = m.sample(img, 2, 6, features=feats, generator=torch.Generator().manual_seed(5))
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x["xy"], y["xy"])
        torch.testing.assert_close(x["dur_ms"], y["dur_ms"])
    assert m.training  # sampling restores the training mode


def test_unknown_backbone_is_an_input_error():
    with pytest.raises(InputError, match="unknown backbone"):
        ImageEncoder(ModelConfig(backbone="vgg"))


def test_timm_backbone_without_timm_explains_how_to_get_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "timm", None)  # import fails as if not installed
    with pytest.raises(InputError, match="needs the timm package"):
        ImageEncoder(ModelConfig(backbone="timm:resnet18"))


def test_target_finding_conditions_the_scanpath_model():
    import dataclasses

    from gazekit.models.data import FINDINGS

    torch.manual_seed(2)
    m = ScanpathModel(dataclasses.replace(SMALL, target_finding=True))
    img = torch.rand(1, 1, 32, 32)
    drawn = m.sample(img, 3, 5, target=0, generator=torch.Generator().manual_seed(0))
    assert all(1 <= len(d["xy"]) <= 5 for d in drawn)
    b = {
        "image": img.expand(2, -1, -1, -1),
        "xy": torch.rand(2, 4, 2),
        "dur": torch.full((2, 4), 5.5),
        "t": torch.zeros(2, 4),
        "region": torch.zeros(2, 4, dtype=torch.long),
        "mask": torch.tensor([[True] * 4, [True, True, False, False]]),
        "target": torch.tensor([0, len(FINDINGS)]),
    }
    with torch.no_grad():  # same fixations, another target → another next-fixation density
        other = dict(b, target=torch.tensor([len(FINDINGS) - 1, 1]))
        assert not torch.allclose(m(b)[0]["mu"], m(other)[0]["mu"])
    _, loss = m(b)
    loss.backward()
    assert torch.isfinite(loss) and m.target.weight.grad[0].abs().sum() > 0


def test_sqrt_pos_weight_balances_rare_findings_and_leaves_unseen_ones_at_one():
    from gazekit.models.nn import MAX_POS_WEIGHT, sqrt_pos_weight

    y = np.zeros((101, 3), np.float32)
    y[0, 0] = 1  # 1 positive, 100 negatives → sqrt(100) = 10
    y[:, 2] = 1  # all positive → no up-weighting below 1
    np.testing.assert_allclose(sqrt_pos_weight(y), [10.0, 1.0, 1.0])
    rare = np.zeros((10**6, 1), np.float32)
    rare[0] = 1
    assert sqrt_pos_weight(rare)[0] == MAX_POS_WEIGHT


def test_focal_loss_down_weights_easy_tokens_and_unknown_loss_is_an_input_error():
    from gazekit.models.nn import IntentModel

    torch.manual_seed(0)
    b = {"image": torch.rand(2, 1, 32, 32), "xy": torch.rand(2, 5, 2), "dur": torch.full((2, 5), 5.5),
         "t": torch.zeros(2, 5), "region": torch.zeros(2, 5, dtype=torch.long),
         "mask": torch.ones(2, 5, dtype=torch.bool), "intent": torch.zeros(2, 5, 13)}  # fmt: skip
    bce = IntentModel(dataclasses.replace(SMALL, loss="bce"))
    focal = IntentModel(dataclasses.replace(SMALL, loss="focal"))
    focal.load_state_dict(bce.state_dict())
    with torch.no_grad():
        _, lb = bce(b)
        _, lf = focal(b)
    assert 0 < float(lf) < float(lb)
    with pytest.raises(InputError, match=r"model\.loss"):
        ModelConfig(loss="hinge")
    with pytest.raises(InputError, match="pos_weight"):
        ModelConfig(pos_weight="balanced")
