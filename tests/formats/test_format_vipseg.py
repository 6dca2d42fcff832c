"""knet.formats.vipseg: the official categories and value encoding."""
import numpy as np
import pytest

from knet.formats import VIPSEG_CATEGORIES, decode_vipseg, encode_vipseg
from knet.formats.vipseg import VIPSEG_STUFF_IDS, VIPSEG_THING_IDS


def test_categories_are_the_official_124():
    assert [c['id'] for c in VIPSEG_CATEGORIES] == list(range(124))
    assert sum(c['isthing'] for c in VIPSEG_CATEGORIES) == 58
    assert len(VIPSEG_THING_IDS) == 58 and len(VIPSEG_STUFF_IDS) == 66
    by_name = {c['name']: c for c in VIPSEG_CATEGORIES}
    # spot checks against panoVIPSeg_categories.json
    assert by_name['wall']['id'] == 0 and by_name['wall']['isthing'] == 0
    assert by_name['door']['id'] == 2 and by_name['door']['isthing'] == 1
    assert by_name['person']['id'] == 60 and by_name['person']['isthing']
    assert by_name['car']['id'] == 48 and by_name['car']['color'] == [140,
                                                                      140,
                                                                      140]
    assert by_name['train']['id'] == 123 and by_name['train']['isthing']
    assert by_name['sky']['id'] == 28 and not by_name['sky']['isthing']
    assert VIPSEG_CATEGORIES[75]['name'] == \
        'cupboard_or_showcase_or_storage_rack'
    assert len({c['name'] for c in VIPSEG_CATEGORIES}) == 124


def test_decode_by_hand():
    raw = np.array([[0, 1, 61, 124, 125, 300, 6100, 6199, 12499]], np.uint16)
    cat, inst = decode_vipseg(raw)
    # 0 void; v < 125 -> v - 1; else v // 100 - 1 and v % 100
    assert cat.tolist() == [[255, 0, 60, 123, 0, 2, 60, 60, 123]]
    assert inst.tolist() == [[-1, -1, -1, -1, 25, 0, 0, 99, 99]]


def test_encode_roundtrip_and_errors():
    rng = np.random.default_rng(0)
    cat = rng.choice(list(VIPSEG_THING_IDS) + [255, 0, 28], size=(6, 7))
    inst = np.where(np.isin(cat, VIPSEG_THING_IDS),
                    rng.integers(0, 100, size=cat.shape), -1)
    raw = encode_vipseg(cat, inst)
    assert raw.dtype == np.uint16
    c2, i2 = decode_vipseg(raw)
    np.testing.assert_array_equal(c2, cat)
    np.testing.assert_array_equal(i2, inst)
    with pytest.raises(ValueError):
        encode_vipseg(np.array([[124]]), np.array([[-1]]))
    with pytest.raises(ValueError):
        encode_vipseg(np.array([[60]]), np.array([[100]]))
    with pytest.raises(ValueError):
        decode_vipseg(np.zeros((2, 2, 3), np.uint16))
