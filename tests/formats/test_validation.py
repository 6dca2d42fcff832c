"""knet.formats.validation and the schema checks of the format modules."""
import numpy as np
import pytest
from pycocotools import mask as mask_api

from knet.formats.io import DataError
from knet.formats.validation import Validator, rle_counts_valid
from knet.formats.youtube_vis import (validate_ytvis_official,
                                      validate_ytvis_results)


def _compressed(mask: np.ndarray) -> str:
    return mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))[
        'counts'].decode()


def test_rle_counts_agree_with_pycocotools():
    """Every string pycocotools writes is valid; what pycocotools decodes
    from it has the area the validator's runs give."""
    rng = np.random.default_rng(0)
    strings, totals = [], []
    for i in range(200):
        h, w = rng.integers(1, 60, 2)
        m = rng.random((h, w)) < rng.random()
        if i % 9 == 0:
            m[:] = i % 2 == 0  # empty and full masks
        strings.append(_compressed(m))
        totals.append(int(h * w))
    assert rle_counts_valid(strings, totals).all()
    # the pixel count is part of the check
    assert not rle_counts_valid(strings, [t + 1 for t in totals]).any()
    # bytes work like str
    assert rle_counts_valid([s.encode() for s in strings], totals).all()


def test_rle_counts_reject_what_hangs_the_evaluator():
    # each of these made tools/eval_vis.py spin for minutes (a run < 0
    # stored by pycocotools as a count near 2**32)
    bad = ['o0o0', '0Z', 'i', '1?', '\u00e9', '0 1', 'oooooooo0']
    assert not rle_counts_valid(bad, [100] * len(bad)).any()
    # a bad string does not spoil the next one (runs never span strings)
    good = _compressed(np.eye(4, dtype=bool))
    assert rle_counts_valid(['i', good], [16, 16]).tolist() == [False, True]
    # lists: integers >= 0 adding up to h * w
    ok = rle_counts_valid([[0, 5], [2, -1, 3], [1.0, 3], [], [True, 3]],
                          [5, 4, 4, 0, 4])
    assert ok.tolist() == [True, False, False, True, False]


def test_validator_messages_name_the_entry():
    v = Validator('a.json')
    with pytest.raises(DataError, match=r"^a\.json: x\[2\]\.id: expected an "
                       r"integer, got 1\.5$"):
        v.integer(1.5, 'x[2].id')
    with pytest.raises(DataError, match='got True'):
        v.integer(True, 'n')
    with pytest.raises(DataError, match="missing key 'id'"):
        v.mapping({}, 'videos[0]', ('id',))
    with pytest.raises(DataError, match=r'videos\[1\]\.id: duplicate id 3 '
                       r'\(also videos\[0\]\)'):
        v.unique([{'id': 3}, {'id': 3}], 'id', 'videos')
    with pytest.raises(DataError, match='finite number'):
        v.number(float('nan'), 'score')
    with pytest.raises(DataError, match='bbox must be'):
        v.bbox([1, 2, 3], 'bbox')
    with pytest.raises(DataError, match='mask is 2x3'):
        v.rle({'size': [2, 3], 'counts': [6]}, 'seg', 4, 4)


def _official():
    m = np.zeros((4, 6), bool)
    m[1:3, 2:5] = True
    rle = dict(size=[4, 6], counts=_compressed(m))
    return dict(
        videos=[dict(id=1, width=6, height=4, length=2,
                     file_names=['v/0.jpg', 'v/1.jpg'])],
        categories=[dict(id=1, name='a')],
        annotations=[dict(id=1, video_id=1, category_id=1, iscrowd=0,
                          segmentations=[rle, None], areas=[6, None],
                          bboxes=[[2, 1, 3, 2], None])]), rle


def test_youtube_vis_official_and_results():
    data, rle = _official()
    sizes = validate_ytvis_official(data, 'train.json')
    assert sizes == {1: (4, 6, 2)}
    validate_ytvis_results([dict(video_id=1, category_id=1, score=0.5,
                                 segmentations=[rle, None])], sizes, [1],
                           'r.json')
    with pytest.raises(DataError, match=r'result 0\.segmentations: has 1 '
                       r'entries for the 2 frames of video 1'):
        validate_ytvis_results([dict(video_id=1, category_id=1, score=0.5,
                                     segmentations=[rle])], sizes, [1], 'r')
    with pytest.raises(DataError, match=r'segmentations\[1\]\.counts: '
                       'invalid RLE counts'):
        validate_ytvis_results([dict(video_id=1, category_id=1, score=0.5,
                                     segmentations=[rle, dict(
                                         size=[4, 6], counts='o0o0')])],
                               sizes, [1], 'r')
    data['videos'][0]['file_names'][1] = 'v/0.jpg'
    with pytest.raises(DataError, match='listed twice'):
        validate_ytvis_official(data, 'train.json')
    data, _ = _official()
    data['annotations'][0]['segmentations'][0] = None
    with pytest.raises(DataError, match='frame 0 has a box but no mask'):
        validate_ytvis_official(data, 'train.json')
