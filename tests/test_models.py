"""Intent and scanpath transformers on CPU: learning, masks, determinism, resume, CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402

from gazekit.cli.main import cli  # noqa: E402
from gazekit.io.parquet import read_frame  # noqa: E402
from gazekit.models import (  # noqa: E402
    IntentModel,
    ModelConfig,
    ScanpathModel,
    TrainConfig,
    load_checkpoint,
    load_corpus,
    split_recordings,
    train,
)
from gazekit.models.baselines import CentreBias, DensitySampler, GRUIntentModel  # noqa: E402
from gazekit.models.train import to_tensors  # noqa: E402

SMALL = ModelConfig(image_size=32, d_model=32, n_heads=4, n_layers=1, dropout=0.0,
                    encoder_channels=(8, 16, 16, 32), n_mixtures=3)  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import write_sessions

    out = tmp_path_factory.mktemp("models") / "sim"
    write_sessions(simulate_corpus(6, seed=4, n_readers=2, image_size=128, strategy="mixed"), out)
    return out


@pytest.fixture(scope="module")
def corpus(dataset):
    return load_corpus(dataset, regime="radexplore", image_size=SMALL.image_size)


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _batch(corpus, k=4):
    return to_tensors(corpus, corpus.examples[:k], torch.device("cpu"))


@pytest.mark.parametrize("model_cls", [IntentModel, GRUIntentModel])
def test_intent_model_overfits_a_small_batch_with_per_fixation_discrimination(corpus, model_cls):
    """A model that learns only the class priors has AUROC 0.5: ask for > 0.95 on train."""
    from gazekit.metrics.classification import auroc
    from gazekit.models.nn import sqrt_pos_weight

    torch.manual_seed(0)
    m = model_cls(SMALL)
    b = _batch(corpus)
    m.set_pos_weight(sqrt_pos_weight(b["intent"][b["mask"]].numpy()))
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    for _ in range(120):
        _, loss = m(b)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        logits, _ = m(b)
    y, s = b["intent"][b["mask"]].numpy(), logits[b["mask"]].numpy()
    aucs = [auroc(y[:, k], s[:, k]) for k in range(y.shape[1]) if 0 < y[:, k].sum() < len(y)]
    assert aucs and min(aucs) > 0.95, aucs


def test_scanpath_model_overfits_a_small_batch(corpus):
    torch.manual_seed(0)
    m = ScanpathModel(SMALL)
    b = _batch(corpus)
    opt = torch.optim.AdamW(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        _, loss = m(b)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] - 1.5, losses[::10]  # NLL in nats per fixation


@pytest.mark.parametrize("model_cls", [IntentModel, ScanpathModel])
def test_padding_does_not_change_the_real_tokens_outputs(corpus, model_cls):
    torch.manual_seed(0)
    m = model_cls(SMALL).eval()
    ex = sorted(corpus.examples, key=len)
    short, long_ = ex[0], ex[-1]
    alone = to_tensors(corpus, [short], torch.device("cpu"))
    padded = to_tensors(corpus, [short, long_], torch.device("cpu"))
    n = len(short)
    with torch.no_grad():
        (a, la), (p, _) = m(alone), m(padded)
        if model_cls is ScanpathModel:
            a, p = a["mu"], p["mu"]
            torch.testing.assert_close(la, m(to_tensors(corpus, [short], torch.device("cpu")))[1])
    torch.testing.assert_close(a[0, :n], p[0, :n], rtol=1e-4, atol=1e-5)


def test_scanpath_is_causal_future_fixations_do_not_change_the_past(corpus):
    torch.manual_seed(0)
    m = ScanpathModel(SMALL).eval()
    b = _batch(corpus, 1)
    c = {k: v.clone() for k, v in b.items()}
    c["xy"][0, 5:] = torch.rand_like(c["xy"][0, 5:])
    with torch.no_grad():
        pa, pc = m(b)[0]["mu"], m(c)[0]["mu"]
    torch.testing.assert_close(pa[0, :6], pc[0, :6])  # step i sees fixations < i
    assert not torch.allclose(pa[0, 6:], pc[0, 6:])


def test_sampled_scanpaths_have_valid_positions_durations_and_lengths(corpus):
    torch.manual_seed(0)
    m = ScanpathModel(SMALL)
    img = torch.as_tensor(corpus.images[corpus.examples[0].image_id])[None, None]
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    s1 = m.sample(img, n_samples=3, max_len=12, generator=g1)
    s2 = m.sample(img, n_samples=3, max_len=12, generator=g2)
    assert len(s1) == 3
    for a, b in zip(s1, s2, strict=True):
        assert 1 <= len(a["xy"]) <= 12 and a["xy"].shape == (len(a["dur_ms"]), 2)
        assert float(a["xy"].min()) >= 0 and float(a["xy"].max()) <= 1
        assert bool((a["dur_ms"] > 0).all())
        torch.testing.assert_close(a["xy"], b["xy"])


def test_split_keeps_images_and_readers_apart(corpus):
    e0 = corpus.examples[0]
    fake = [
        dataclasses.replace(e0, image_id=f"img{i}", reader_id=f"R{r}", recording_id=f"img{i}-R{r}")
        for i in range(20)
        for r in range(7)
    ]
    tr, va, te = split_recordings(fake, seed=1)
    by = {e.recording_id: e for e in fake}
    for a, b in ((tr, va), (tr, te), (va, te)):
        assert not {by[r].image_id for r in a} & {by[r].image_id for r in b}
        assert not {by[r].reader_id for r in a} & {by[r].reader_id for r in b}
    assert tr and va and te


def _cfg(**kw):
    return TrainConfig(batch_size=4, lr=3e-3, warmup_steps=2, max_steps=6, eval_every=2, patience=10,
                       split=(0.5, 0.25, 0.25), model=SMALL, **kw)  # fmt: skip


def test_same_seed_same_losses_and_resume_continues_exactly(corpus, tmp_path):
    a = train(corpus, _cfg(), tmp_path / "a")
    b = train(corpus, _cfg(), tmp_path / "b")
    ha = pd.read_csv(tmp_path / "a" / "metrics.csv")
    hb = pd.read_csv(tmp_path / "b" / "metrics.csv")
    np.testing.assert_array_equal(ha["train_loss"], hb["train_loss"])
    assert a.best_val == b.best_val
    # stop at step 4, resume to 6: the same losses as the uninterrupted run
    train(corpus, _cfg(), tmp_path / "c", stop_at=4)
    train(corpus, _cfg(), tmp_path / "c", resume=True)
    hc = pd.read_csv(tmp_path / "c" / "metrics.csv")
    np.testing.assert_allclose(hc["train_loss"], ha["train_loss"], rtol=1e-6)
    # the kept checkpoint is the one with the best validation macro-AP
    best = torch.load(tmp_path / "a" / "best.pt", weights_only=False)
    assert best["best_score"] == pytest.approx(ha["val_ap"].max())
    assert a.score_name == "val_macro_ap" and a.best_score == best["best_score"]
    _model, ck = load_checkpoint(tmp_path / "c" / "checkpoint.pt")
    assert ck["step"] == 6 and ck["versions"]["torch"] == torch.__version__
    assert (tmp_path / "a" / "loss.png").stat().st_size > 1000


def test_cli_train_predict_evaluate_end_to_end(dataset, tmp_path):
    import json

    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(_cfg().to_dict() | {"max_steps": 4}))
    run = CliRunner().invoke
    for task in ("intent", "scanpath"):
        r = run(
            cli,
            [
                "train",
                task,
                "--data",
                str(dataset),
                "--config",
                str(cfg),
                "-o",
                str(tmp_path / task),
            ],
        )
        assert r.exit_code == 0, r.output
        assert "fixation tokens/s" in r.output
    r = run(cli, ["predict", "intent", "--checkpoint", str(tmp_path / "intent" / "best.pt"),
                  "--data", str(dataset), "-o", str(tmp_path / "p.parquet")])  # fmt: skip
    assert r.exit_code == 0, r.output
    pred = read_frame(tmp_path / "p.parquet", "intent_predictions")
    assert len(pred["probabilities"].iloc[0]) == 13
    r = run(cli, ["predict", "scanpath", "--checkpoint", str(tmp_path / "scanpath" / "best.pt"),
                  "--data", str(dataset), "-o", str(tmp_path / "s.parquet"), "--samples", "2"])  # fmt: skip
    assert r.exit_code == 0, r.output
    sp = read_frame(tmp_path / "s.parquet", "scanpath_predictions")
    assert set(sp["sample"]) == {0, 1}
    r = run(cli, ["evaluate", "intent", "--checkpoint", str(tmp_path / "intent" / "best.pt"),
                  "--data", str(dataset), "-o", str(tmp_path / "ei"), "--bootstrap", "20",
                  "--json", str(tmp_path / "ei.json")])  # fmt: skip
    assert r.exit_code == 0, r.output
    for name in ("transformer", "region-time-prior", "gru", "image-only", "oracle-finding-boxes"):
        assert f"| {name} |" in r.output
    metrics = {
        (row["model"], row["metric"]) for row in json.loads((tmp_path / "ei.json").read_text())
    }
    assert ("transformer", "auroc_within") in metrics and ("gru", "ap_within") in metrics
    assert ("transformer - gru", "delta_ap_within") in metrics
    r = run(cli, ["evaluate", "scanpath", "--checkpoint", str(tmp_path / "scanpath" / "best.pt"),
                  "--data", str(dataset), "-o", str(tmp_path / "ev"), "--samples", "1",
                  "--bootstrap", "20", "--json", str(tmp_path / "ev.json")])  # fmt: skip
    assert r.exit_code == 0, r.output
    for name in ("transformer", "centre-bias", "heatmap-sampling", "human"):
        assert f"| {name} |" in r.output
    rows = json.loads((tmp_path / "ev.json").read_text())
    assert {"ll_bits_per_fixation", "ig_vs_centre-bias", "ig_vs_heatmap-sampling"} <= {
        r["metric"] for r in rows
    }
    assert set(rows[0]) == {"task", "regime", "model", "metric", "value", "ci_low", "ci_high",
                            "support"}  # fmt: skip


def test_baseline_samplers_follow_the_training_distribution(corpus):
    rng = np.random.default_rng(0)
    for s in (CentreBias(corpus.examples), DensitySampler(corpus.examples)):
        xy = np.concatenate([s.sample("x", rng)[0] for _ in range(200)])
        ref = np.concatenate([e.xy for e in corpus.examples])
        assert ((xy >= 0) & (xy <= 1)).all()
        np.testing.assert_allclose(xy.mean(0), ref.mean(0), atol=0.05)
