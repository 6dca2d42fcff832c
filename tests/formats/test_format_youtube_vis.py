"""knet.formats.youtube_vis: class lists and uncompressed RLE."""
import numpy as np
from pycocotools import mask as mask_utils

from knet.formats.coco_mask import mask_to_bbox, mask_to_rle, rle_to_mask
from knet.formats.youtube_vis import ytvis_categories, ytvis_classes


def test_class_lists():
    c19, c21 = ytvis_classes('2019'), ytvis_classes(2021)
    assert len(c19) == len(set(c19)) == 40
    assert len(c21) == len(set(c21)) == 40
    assert c19[0] == 'person' and c19[-1] == 'tennis_racket'
    assert c21[0] == 'airplane' and c21[-1] == 'zebra'
    assert 'sedan' in c19 and 'sedan' not in c21
    assert ytvis_categories('2019')[5] == dict(supercategory='object', id=6,
                                               name='sedan')


def test_rle_by_hand_and_against_pycocotools():
    m = np.array([[1, 0, 0],
                  [1, 1, 0]], bool)
    # column-major runs starting with background: 0 zeros, 2 ones, 1 zero,
    # 1 one, 2 zeros
    assert mask_to_rle(m) == dict(size=[2, 3], counts=[0, 2, 1, 1, 2])
    rng = np.random.default_rng(1)
    m = rng.random((9, 13)) < 0.4
    rle = mask_to_rle(m)
    decoded = mask_utils.decode(mask_utils.frPyObjects(rle, 9, 13))
    np.testing.assert_array_equal(decoded.astype(bool), m)
    np.testing.assert_array_equal(rle_to_mask(rle, 9, 13), m)
    compressed = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    np.testing.assert_array_equal(rle_to_mask(compressed, 9, 13), m)
    assert mask_to_bbox(m) == mask_utils.toBbox(compressed).tolist()
    assert mask_to_bbox(np.zeros((3, 3), bool)) is None
