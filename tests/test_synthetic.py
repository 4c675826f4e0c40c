"""The synthetic generator's statistics match the ground truth it claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gazekit import schemas
from gazekit.anatomy.regions import REGIONS
from gazekit.synthetic import (
    CHECKLIST,
    OculomotorParams,
    simulate_corpus,
    simulate_image,
    simulate_session,
)
from gazekit.synthetic.findings import PREVALENCE
from gazekit.synthetic.reader import MAX_PER_ITEM
from gazekit.synthetic.transcript import FINDING_TEMPLATES, NORMAL_PHRASES
from gazekit.vocab import GAZEINTENT_FINDINGS, mentioned_findings

SIZE = 256


@pytest.fixture(scope="module")
def eyelink_session():
    return simulate_session(
        11, tracker="eyelink", strategy="explore", image_size=SIZE, n_findings=2
    )


@pytest.fixture(scope="module")
def gazepoint_session():
    return simulate_session(
        12, tracker="gazepoint", strategy="seq", image_size=SIZE, n_findings=2, min_duration_s=90
    )


def _runs(labels: np.ndarray, value: str) -> list[tuple[int, int]]:
    """(start, stop) index runs where ``labels == value``."""
    m = np.concatenate([[False], labels == value, [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


# ------------------------------------------------------------------ oculomotor


def test_saccade_durations_follow_the_main_sequence_in_labelled_samples(eyelink_session):
    s = eyelink_session
    smp = s.recording.samples
    g = s.recording.geometry
    lab = smp["label"].to_numpy(dtype=object)
    x, y = smp["x_px"].to_numpy(), smp["y_px"].to_numpy()
    amp, dur, pv = [], [], []
    xd, yd = g.to_degrees(x, y)
    vel = np.hypot(np.diff(xd), np.diff(yd)) * 1000.0
    for a, b in _runs(lab, "saccade"):
        if a == 0 or b >= len(x) or not np.isfinite(x[a - 1 : b + 1]).all():
            continue
        amp.append(float(g.angular_distance(x[a - 1], y[a - 1], x[b - 1], y[b - 1])))
        dur.append(b - a)
        pv.append(float(vel[a - 1 : b].max()))
    amp, dur, pv = np.array(amp), np.array(dur), np.array(pv)
    keep = amp > 1.0  # tracker noise dominates tiny saccades
    slope, intercept = np.polyfit(amp[keep], dur[keep], 1)
    p = OculomotorParams()
    assert len(amp) > 50
    assert slope == pytest.approx(p.ms_slope_ms_per_deg, abs=0.35)
    assert intercept == pytest.approx(p.ms_intercept_ms, abs=4.0)
    # peak velocity grows with amplitude and matches the minimum-jerk profile 1.875·A/D
    assert np.corrcoef(amp[keep], pv[keep])[0, 1] > 0.8
    ratio = pv[keep] / (1.875 * amp[keep] / (dur[keep] / 1000.0))
    assert np.median(ratio) == pytest.approx(1.0, abs=0.12)


def test_sample_labels_match_the_true_events(eyelink_session):
    s = eyelink_session
    eye = s.eye.label  # 1 kHz codes of the noise-free trace
    sac = s.eye.saccades
    for on, off in zip(sac["onset_ms"].astype(int), sac["offset_ms"].astype(int), strict=True):
        assert (eye[on:off] == 1).all()
    for on, off in zip(
        s.truth["onset_ms"].astype(int), s.truth["offset_ms"].astype(int), strict=True
    ):
        assert (eye[on:off] == 0).all()
    lab = s.recording.samples["label"].to_numpy(dtype=object)
    names = np.array(["fixation", "saccade", "pso", "blink"], dtype=object)
    # the tracker keeps the true label except around blinks (loss margins, lid artefact)
    differs = lab != names[eye]
    assert (lab[differs] == "blink").all()
    assert differs.mean() < 0.05
    assert (lab == "pso").mean() > 0.01


def test_blinks_show_lid_artefact_then_loss(eyelink_session):
    smp = eyelink_session.recording.samples
    blink = (smp["label"] == "blink").to_numpy()
    valid = smp["valid"].to_numpy()
    assert (blink & ~valid).any() and (blink & valid).any()  # loss plus artefact samples
    y = smp["y_px"].to_numpy()
    on = int(eyelink_session.eye.blinks["onset_ms"].iloc[0]) - 10  # EyeLink-like pre-loss margin
    # gaze drops (y grows) over the 25 ms before the loss
    assert y[on - 1] - y[on - 25] > eyelink_session.recording.geometry.px_per_deg()


def test_fixation_durations_are_right_skewed_and_longer_on_findings(gazepoint_session):
    t = gazepoint_session.truth
    d = t["duration_ms"].to_numpy()
    skew = ((d - d.mean()) ** 3).mean() / d.std() ** 3
    assert skew > 0.5
    assert 150 < np.median(d) < 450
    assert d.min() >= 60
    on = t[t["phase"].isin(["verify", "return"])]["duration_ms"]
    off = t[t["phase"].isin(["search", "explore", "review"])]["duration_ms"]
    assert len(on) >= 3
    assert on.median() > 1.2 * off.median()


def test_fixations_sit_where_the_truth_says(gazepoint_session):
    s = gazepoint_session
    smp = s.recording.samples
    t = smp["t_ms"].to_numpy()
    errs = []
    for _, row in s.truth.iterrows():
        sel = (t >= row.onset_ms) & (t < row.offset_ms)
        xs = smp["x_px"].to_numpy()[sel]
        if np.isfinite(xs).sum() >= 3:
            ys = smp["y_px"].to_numpy()[sel]
            errs.append(np.hypot(np.nanmean(xs) - row.x_px, np.nanmean(ys) - row.y_px))
    ppd = s.recording.geometry.px_per_deg()
    # Gazepoint-like accuracy: offset ~0.5° plus noise, never several degrees
    assert np.median(errs) / ppd < 1.2


# ------------------------------------------------------------------- trackers


def test_gazepoint_samples_at_60hz_with_jitter_and_dropped_rows(gazepoint_session):
    smp = gazepoint_session.recording.samples
    t = smp["t_ms"].to_numpy()
    dt = np.diff(t)
    assert (dt > 0).all()
    assert np.median(dt) == pytest.approx(1000 / 60, abs=0.5)
    assert dt.std() > 0.8  # timestamp jitter
    expected = int(t[-1] / (1000 / 60)) + 1
    dropped = 1 - len(t) / expected
    assert 0.002 < dropped < 0.03
    assert (dt > 1.5 * 1000 / 60).sum() >= 1  # gaps where rows were dropped
    invalid = ~smp["valid"].to_numpy()
    assert 0.01 < invalid.mean() < 0.2
    assert smp.loc[invalid, "x_px"].isna().all()
    closed = gazepoint_session.eye.label[np.floor(t).astype(int)] == 3  # lid closed
    assert closed.any() and not smp["valid"].to_numpy()[closed].any()
    assert (~smp.loc[smp["label"] == "blink", "valid"]).mean() > 0.5


def test_eyelink_samples_every_millisecond_on_integer_times(eyelink_session):
    t = eyelink_session.recording.samples["t_ms"].to_numpy()
    assert (np.diff(t) == 1.0).all()
    assert (t == np.round(t)).all()
    assert eyelink_session.recording.sampling_rate_hz == 1000.0


def test_tracker_events_are_sorted_and_conform(eyelink_session):
    ev = eyelink_session.recording.events
    schemas.conform(ev, "events")
    assert set(ev["event"]) <= {"fixation", "saccade", "blink"}
    assert (ev["offset_ms"] > ev["onset_ms"]).all()
    assert ev["onset_ms"].is_monotonic_increasing
    sac = ev[ev["event"] == "saccade"]
    assert (sac["peak_velocity_deg_s"].dropna() > 30).mean() > 0.9


# ----------------------------------------------------------------- transcript


@pytest.mark.parametrize("label", sorted(FINDING_TEMPLATES), ids=lambda s: f"phrase_mentions_{s}")
def test_every_finding_phrase_is_recognised_as_exactly_its_finding(label):
    for template in FINDING_TEMPLATES[label]:
        text = template.format(side="right", zone="lower", sev="small", sevm="mild")
        assert mentioned_findings(text) == [label], text


@pytest.mark.parametrize("label", sorted(NORMAL_PHRASES), ids=lambda s: f"normal_{s}")
def test_normal_phrases_mention_no_finding(label):
    text = NORMAL_PHRASES[label]
    if text is not None:
        assert mentioned_findings(text) == []


def test_findings_are_dictated_one_to_a_few_seconds_after_the_first_look():
    lags = []
    for seed in range(6):
        s = simulate_session(
            seed, strategy=("seq", "hybrid", "explore")[seed % 3], image_size=SIZE, n_findings=3
        )
        t = s.truth
        tr = s.recording.transcript
        assert (tr["start_ms"].diff().dropna() > 0).all()
        assert (tr["start_ms"].to_numpy()[1:] >= tr["end_ms"].to_numpy()[:-1]).all()  # one voice
        for _, ph in tr.iterrows():
            for label in mentioned_findings(ph.text):
                (f,) = [f for f in s.findings if f.label == label]
                aimed = f.contains(t["target_x_px"].to_numpy(), t["target_y_px"].to_numpy())
                assert aimed.any(), f"{label} dictated but never looked at"
                # eye–voice lag: from the latest look at the finding ≥ 1 s before speaking
                onsets = t.loc[aimed, "onset_ms"].to_numpy()
                assert onsets.min() <= ph.start_ms - 1000
                lags.append(ph.start_ms - onsets[onsets <= ph.start_ms - 1000].max())
        assert tr["end_ms"].max() <= s.eye.duration_ms  # the recording covers the dictation
    lags = np.array(lags)
    assert len(lags) >= 8
    assert (lags >= 1000).all()
    assert (lags <= 6000).all()
    assert 1200 < np.median(lags) < 4000


def test_words_split_each_phrase_in_order_within_its_time():
    from gazekit.synthetic.transcript import to_words

    tr = simulate_session(2, image_size=SIZE, n_findings=2).recording.transcript
    words = to_words(tr)
    assert set(words["level"]) == {"word"}
    assert " ".join(words["text"]).replace(" .", ".") == " ".join(tr["text"])
    assert (words["end_ms"] >= words["start_ms"]).all()
    assert words["start_ms"].is_monotonic_increasing
    assert words["start_ms"].min() == tr["start_ms"].min()


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    strategy=st.sampled_from(["seq", "explore", "hybrid"]),
    tracker=st.sampled_from(["gazepoint", "eyelink"]),
)
def test_any_session_keeps_its_invariants(seed, strategy, tracker):
    s = simulate_session(seed, tracker=tracker, strategy=strategy, image_size=128)
    t, smp = s.truth, s.recording.samples
    assert (t["offset_ms"] > t["onset_ms"]).all()
    assert (t["onset_ms"].to_numpy()[1:] > t["offset_ms"].to_numpy()[:-1]).all()
    assert smp["t_ms"].is_monotonic_increasing
    assert smp["t_ms"].iloc[-1] <= s.eye.duration_ms
    assert (smp["valid"] == smp["x_px"].notna()).all()
    tr = s.recording.transcript
    assert tr.empty or tr["end_ms"].max() <= s.eye.duration_ms
    found = {f.label for f in s.findings}
    assert {f for text in tr["text"] for f in mentioned_findings(text)} <= found


# ------------------------------------------------------------ reader & truth


def test_truth_table_conforms_and_uses_the_vocabularies(gazepoint_session):
    t = gazepoint_session.truth
    schemas.conform(t, "truth_fixations")
    assert set(t["target_region"]) <= set(REGIONS)
    assert {f for v in t["intended_findings"] for f in v} <= set(GAZEINTENT_FINDINGS)
    assert (t["fixation_index"] == np.arange(len(t))).all()
    assert (t["onset_ms"].to_numpy()[1:] > t["offset_ms"].to_numpy()[:-1]).all()


def test_seq_fixations_search_one_checklist_finding_in_its_anatomy():
    s = simulate_session(4, strategy="seq", image_size=SIZE, n_findings=2)
    t = s.truth
    search = t[t["phase"] == "search"]
    assert len(search) > 10
    for _, row in search.iterrows():
        assert len(row.intended_findings) == 1
        assert row.target_region in CHECKLIST[row.intended_findings[0]]
    verify = t[t["phase"] == "verify"]
    assert set(verify["intended_findings"].map(tuple)) == {(f.label,) for f in s.findings}
    # consecutive fixations aimed at one checklist item: at most MAX_PER_ITEM
    aimed = t[t["phase"].isin(["search", "verify"])]["intended_findings"].map(tuple)
    runs = (aimed != aimed.shift()).cumsum()
    assert aimed.groupby(runs).size().max() <= MAX_PER_ITEM


def test_explore_labels_with_all_findings_and_returns_to_them():
    s = simulate_session(5, strategy="explore", image_size=SIZE, n_findings=2)
    t = s.truth
    labels = sorted(f.label for f in s.findings)
    assert all(sorted(v) == labels for v in t.loc[t["phase"] == "explore", "intended_findings"])
    returns = t[t["phase"] == "return"]
    assert len(returns) >= 2


def test_hybrid_scans_first_then_searches():
    s = simulate_session(6, strategy="hybrid", image_size=SIZE)
    phases = s.truth["phase"].tolist()
    first_search = phases.index("search")
    assert first_search >= 5
    assert set(phases[:first_search]) == {"scan"}
    assert "scan" not in phases[first_search:]


def test_long_sessions_last_as_asked_and_end_on_a_fixation():
    s = simulate_session(
        9, tracker="eyelink", strategy="explore", image_size=SIZE, min_duration_s=120
    )
    assert 120_000 <= len(s.recording.samples) < 123_000
    assert s.truth["phase"].eq("review").sum() > 100
    assert s.truth["offset_ms"].iloc[-1] == len(s.recording.samples)


def test_eye_trace_of_a_scanpath_prefix_is_the_prefix_of_the_trace():
    from gazekit.synthetic import oculomotor
    from gazekit.synthetic.session import display_geometry

    g = display_geometry(SIZE, SIZE)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, SIZE, 40), rng.uniform(0, SIZE, 40)
    d = rng.uniform(100, 400, 40)
    full = oculomotor.generate(x, y, d, g, np.random.default_rng(5))
    part = oculomotor.generate(x[:25], y[:25], d[:25], g, np.random.default_rng(5))
    head = full.head(25)
    assert np.array_equal(head.x, part.x, equal_nan=True)
    assert np.array_equal(head.label, part.label)
    pd.testing.assert_frame_equal(head.saccades, part.saccades)


# -------------------------------------------------------------- phantom/findings


def test_phantom_masks_cover_every_region_with_patients_right_on_image_left():
    img = simulate_image(3, SIZE, n_findings=0)
    assert img.names == REGIONS
    assert img.masks.shape == (len(REGIONS), SIZE, SIZE)
    m = dict(zip(img.names, img.masks, strict=True))
    assert all(v.any() for v in m.values())
    assert np.nonzero(m["right_lung"])[1].mean() < SIZE / 2 < np.nonzero(m["left_lung"])[1].mean()
    for side in ("right", "left"):
        zones = [m[f"{side}_{z}_zone"] for z in ("upper", "middle", "lower")]
        assert (np.sum(zones, axis=0) == m[f"{side}_lung"]).all()  # zones partition the lung
    assert not (m["heart"] & (m["right_lung"] | m["left_lung"])).any()
    # lungs are dark, heart and abdomen bright
    assert img.image[m["right_lung"]].mean() < img.image[m["heart"]].mean() - 0.15


def test_cardiomegaly_enlarges_the_cardiothoracic_ratio():
    def ctr(img):
        m = dict(zip(img.names, img.masks, strict=True))
        hx = np.nonzero(m["heart"])[1]
        lx = np.nonzero(m["right_lung"] | m["left_lung"])[1]
        return (hx.max() - hx.min()) / (lx.max() - lx.min())

    ratios_normal = [ctr(simulate_image(s, SIZE, n_findings=0)) for s in range(3)]
    big = []
    for s in range(40):
        img = simulate_image(s, SIZE)
        if any(f.label == "cardiomegaly" for f in img.findings):
            big.append(ctr(img))
        if len(big) == 2:
            break
    assert max(ratios_normal) < 0.5 < min(big)


@pytest.mark.parametrize("label", sorted(PREVALENCE), ids=lambda s: f"visible_{s}")
def test_each_finding_is_rendered_visibly_inside_its_box(label):
    from gazekit.synthetic import findings as fmod
    from gazekit.synthetic.phantom import AnatomyParams, make_phantom

    rng = np.random.default_rng(1)
    params = fmod.anatomy_for([label], AnatomyParams.random(rng), rng)
    ph = make_phantom(SIZE, np.random.default_rng(2), params)
    img, found = fmod.place_and_render(ph, [label], np.random.default_rng(3))
    assert len(found) == 1
    f = found[0]
    assert f.label == label and f.region in REGIONS
    x0, y0, x1, y1 = (round(v) for v in f.box)
    assert 0 <= x0 < x1 <= SIZE and 0 <= y0 < y1 <= SIZE
    if label not in fmod.ANATOMIC:
        diff = np.abs(img - ph.image)[y0:y1, x0:x1]
        assert diff.max() > 0.08


# --------------------------------------------------------------- determinism


def test_same_seed_same_session_and_different_seed_different_session():
    a = simulate_session(21, tracker="gazepoint", strategy="hybrid", image_size=SIZE)
    b = simulate_session(21, tracker="gazepoint", strategy="hybrid", image_size=SIZE)
    c = simulate_session(22, tracker="gazepoint", strategy="hybrid", image_size=SIZE)
    pd.testing.assert_frame_equal(a.recording.samples, b.recording.samples)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    pd.testing.assert_frame_equal(a.recording.transcript, b.recording.transcript)
    assert np.array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)


def test_corpus_has_every_reader_read_every_image():
    sessions = list(simulate_corpus(2, seed=3, n_readers=3, image_size=SIZE, strategy="mixed"))
    assert len(sessions) == 6
    assert {s.image_id for s in sessions} == {"syn3-img0000", "syn3-img0001"}
    assert len({s.recording_id for s in sessions}) == 6
    same_image = [s for s in sessions if s.image_id == "syn3-img0000"]
    assert {s.recording.reader_id for s in same_image} == {"R1", "R2", "R3"}
    assert all(np.array_equal(same_image[0].image, s.image) for s in same_image)
    assert {s.strategy for s in sessions} == {"seq", "explore", "hybrid"}
    # a session does not depend on the others generated with it
    alone = next(iter(simulate_corpus(1, seed=3, n_readers=1, image_size=SIZE, strategy="mixed")))
    pd.testing.assert_frame_equal(alone.truth, sessions[0].truth)


def test_bad_arguments_are_reported_clearly():
    with pytest.raises(ValueError, match="strategy"):
        simulate_session(0, strategy="random", image_size=SIZE)
    with pytest.raises(ValueError, match="tracker"):
        simulate_session(0, tracker="tobii", image_size=SIZE)
