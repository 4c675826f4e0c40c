"""Atlas container, loaders and template."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gazekit import anatomy
from gazekit.anatomy import Atlas
from gazekit.errors import InputError


def _atlas() -> Atlas:
    m = np.zeros((3, 10, 10), bool)
    m[0, :, :5] = True  # right_lung (image left)
    m[1, 6:, :5] = True  # right_lower_zone
    m[2, :, 6:] = True  # left_lung
    return Atlas(m, ("right_lung", "right_lower_zone", "left_lung"))


def test_point_in_overlapping_regions_belongs_to_both():
    a = _atlas()
    member = a.lookup([2.0, 2.0, 8.0, 5.0], [8.0, 1.0, 1.0, 5.0])
    assert member.tolist() == [
        [True, True, False],
        [True, False, False],
        [False, False, True],
        [False, False, False],
    ]
    assert a.region_of([2.0], [8.0]).tolist() == ["right_lower_zone"]


def test_nan_and_outside_points_belong_to_no_region():
    a = _atlas()
    assert not a.lookup([np.nan, -3.0, 50.0], [1.0, 1.0, 1.0]).any()
    assert a.region_of([np.nan], [0.0]).tolist() == [None]


def test_hierarchy_comes_from_canonical_regions():
    a = _atlas()
    assert a.parents["right_lower_zone"] == "right_lung"
    assert a.children("right_lung") == ["right_lower_zone"]


def test_npz_round_trip_keeps_masks_names_parents(tmp_path):
    a = _atlas()
    p = a.save(tmp_path / "img1.npz")
    b = Atlas.load(p)
    assert b.names == a.names and b.image_id == "img1"
    np.testing.assert_array_equal(b.masks, a.masks)
    assert b.parents == a.parents


def test_simulator_npz_contract_masks_and_names_only(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, masks=np.ones((1, 4, 4), bool), names=np.array(["heart"]))
    assert Atlas.load(p).names == ("heart",)


def test_npz_without_names_is_input_error_naming_file(tmp_path):
    p = tmp_path / "bad.npz"
    np.savez(p, masks=np.ones((1, 4, 4), bool))
    with pytest.raises(InputError, match=r"bad\.npz"):
        Atlas.load(p)


def test_lookup_agrees_with_direct_mask_indexing():
    rng = np.random.default_rng(3)
    masks = rng.random((5, 30, 40)) > 0.5
    a = Atlas(masks, tuple(f"r{i}" for i in range(5)))
    x, y = rng.uniform(-2, 42, 500), rng.uniform(-2, 32, 500)
    got = a.lookup(x, y)
    c, r = np.floor(x + 0.5).astype(int), np.floor(y + 0.5).astype(int)
    ok = (c >= 0) & (c < 40) & (r >= 0) & (r < 30)
    ref = np.zeros_like(got)
    ref[ok] = masks[:, r[ok], c[ok]].T
    np.testing.assert_array_equal(got, ref)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=60), st.integers(1, 6))
def test_rle_encode_decode_round_trip(bits, width):
    n = len(bits) - len(bits) % width or width
    flat = np.array((bits + [False] * width)[:n])
    mask = flat.reshape(-1, width)
    assert np.array_equal(anatomy.rle_decode(anatomy.rle_encode(mask), *mask.shape), mask)


def test_rle_is_one_indexed_row_major():
    m = anatomy.rle_decode("2 3 7 1", 2, 4)
    assert m.astype(int).tolist() == [[0, 1, 1, 1], [0, 0, 1, 0]]


@pytest.mark.parametrize(
    "rle",
    [
        pytest.param("1", id="odd_count"),
        pytest.param("7 5", id="run_past_end"),
        pytest.param("a 1", id="text"),
    ],
)
def test_bad_rle_is_input_error(rle):
    with pytest.raises(InputError):
        anatomy.rle_decode(rle, 2, 4)


def test_chexmask_csv_builds_template_from_lungs(tmp_path):
    h = w = 64
    right = np.zeros((h, w), bool)
    right[8:56, 6:28] = True
    left = np.zeros((h, w), bool)
    left[8:56, 36:58] = True
    heart = np.zeros((h, w), bool)
    heart[40:56, 26:44] = True
    p = tmp_path / "chexmask.csv"
    p.write_text(
        "dicom_id,Dice RCA (Mean),Dice RCA (Max),Landmarks,Left Lung,Right Lung,Heart,Height,Width\n"
        f"img7,0.9,0.95,,{anatomy.rle_encode(left)},{anatomy.rle_encode(right)},"
        f"{anatomy.rle_encode(heart)},{h},{w}\n"
    )
    atl = anatomy.read_chexmask(p)["img7"]
    np.testing.assert_array_equal(atl.mask("right_lung"), right)
    np.testing.assert_array_equal(atl.mask("heart"), heart)
    assert set(anatomy.REGIONS) <= set(atl.names)
    zones = (
        atl.mask("right_upper_zone") | atl.mask("right_middle_zone") | atl.mask("right_lower_zone")
    )
    np.testing.assert_array_equal(zones, right)


def test_chexmask_bad_row_names_line(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("id,Left Lung,Right Lung,Heart,Height,Width\na,1 2,1 2,1 2,2,2\nb,1 99,1 1,,2,2\n")
    with pytest.raises(InputError, match="line 3"):
        anatomy.read_chexmask(p)


def test_label_map_with_name_table(tmp_path):
    lab = np.zeros((6, 6), np.uint8)
    lab[:3] = 1
    lab[3:] = 2
    np.save(tmp_path / "lab.npy", lab)
    (tmp_path / "names.json").write_text(json.dumps({"1": "right_lung", "2": "heart"}))
    a = anatomy.from_label_map(
        tmp_path / "lab.npy", anatomy.read_name_table(tmp_path / "names.json")
    )
    assert a.names == ("right_lung", "heart") and a.areas() == {"right_lung": 18, "heart": 18}


def test_imagenome_boxes_map_names_to_canonical_regions(tmp_path):
    p = tmp_path / "scene.json"
    objs = [
        {
            "bbox_name": "right lung",
            "original_x1": 1,
            "original_y1": 2,
            "original_x2": 5,
            "original_y2": 9,
        },
        {
            "bbox_name": "cardiac silhouette",
            "original_x1": 4,
            "original_y1": 6,
            "original_x2": 8,
            "original_y2": 10,
        },
    ]
    p.write_text(json.dumps({"image_id": "abc", "objects": objs}))
    a = anatomy.read_boxes(p, shape=(12, 12))
    assert a.names == ("right_lung", "heart") and a.image_id == "abc"
    assert a.areas()["right_lung"] == 4 * 7


def test_template_from_chest_box_has_all_regions_inside_image(tmp_path):
    p = tmp_path / "chest_bounding_box.csv"
    p.write_text("xmin,ymin,xmax,ymax,certainty\n20,10,180,190,5\n")
    a = anatomy.template_from_box(anatomy.read_chest_box(p), (200, 200))
    assert a.names == anatomy.REGIONS
    areas = a.areas()
    assert all(v > 0 for v in areas.values()), areas
    # patient's right lung is on the image left
    cols = np.nonzero(a.mask("right_lung"))[1]
    assert cols.mean() < 100
    assert not (a.mask("right_lung") & a.mask("left_lung")).any()
