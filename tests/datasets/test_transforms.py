"""Unit tests of the panoptic target builder and the video transforms."""
import numpy as np
import pytest

from knet.datasets.transforms.panoptic_targets import (label_lut,
                                                       panoptic_targets)

V = 255  # void


def test_panoptic_targets_by_hand():
    # dataset ids: 11 = thing A, 13 = thing B, 0 / 5 = stuff, 255 void
    category = np.array([[0, 0, 11, 11, 13, V],
                         [0, 5, 11, 11, 13, 13],
                         [5, 5, 13, 13, 11, V]])
    instance = np.array([[0, 0, 7, 7, 2, 0],
                         [0, 0, 7, 7, 2, 2],
                         [0, 0, 0, 0, 300, 0]])   # (13, 0) is crowd
    crowd = np.isin(category, (11, 13)) & (instance == 0)
    lut = label_lut((11, 13, 0, 5))  # things A, B, then stuff 0, 5
    out = panoptic_targets(category, category * 10000 + instance, crowd, lut,
                           num_things=2)
    np.testing.assert_array_equal(out['gt_seg_map'], [
        [2, 2, 0, 0, 1, 255],
        [2, 3, 0, 0, 1, 1],
        [3, 3, 1, 1, 0, 255]])
    assert out['gt_seg_map'].dtype == np.uint8
    # ascending keys: 110007, 110300, 130002; crowd (130000) left out
    assert out['instances_ids'].tolist() == [110007, 110300, 130002]
    assert out['labels'].tolist() == [0, 0, 1]
    assert out['masks'].shape == (3, 3, 6) and out['masks'].dtype == np.uint8
    np.testing.assert_array_equal(out['masks'][0], [[0, 0, 1, 1, 0, 0],
                                                    [0, 0, 1, 1, 0, 0],
                                                    [0, 0, 0, 0, 0, 0]])
    assert out['masks'][1].sum() == 1 and out['masks'][1][2, 4] == 1
    assert out['masks'][2].sum() == 3


def test_panoptic_targets_unknown_ids_are_void_and_empty_frames():
    category = np.array([[3, 200], [V, 3]])
    lut = label_lut((3, ))
    empty = np.zeros((2, 2), bool)
    out = panoptic_targets(category, np.zeros((2, 2)), empty, lut,
                           num_things=0)
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 255], [255, 0]])
    assert out['masks'].shape == (0, 2, 2) and out['labels'].shape == (0, )


def test_label_lut_rejects_duplicates():
    with pytest.raises(ValueError, match='duplicates'):
        label_lut((1, 2, 1))


mmdet = pytest.importorskip('mmdet')


def _frame_results(n, h=4, w=5):
    from mmdet.structures.mask import BitmapMasks
    masks = np.zeros((n, h, w), np.uint8)
    for i in range(n):
        masks[i, i, i] = 1
    return dict(gt_masks=BitmapMasks(masks, h, w),
                gt_bboxes=np.zeros((n, 4), np.float32),
                gt_bboxes_labels=np.arange(n), gt_instances_ids=np.arange(n) +
                10, gt_ignore_flags=np.zeros(n, bool))


def test_filter_empty_instances_keeps_ids_aligned():
    from knet.datasets.transforms.filtering import FilterEmptyInstances
    res = _frame_results(3)
    res['gt_masks'].masks[1] = 0
    out = FilterEmptyInstances()(res)
    assert out['gt_instances_ids'].tolist() == [10, 12]
    assert out['gt_bboxes_labels'].tolist() == [0, 2]
    assert len(out['gt_masks']) == 2 and out['gt_bboxes'].shape == (2, 4)
    # a frame that loses every instance is kept (stuff still trains)
    res = _frame_results(1)
    res['gt_masks'].masks[:] = 0
    out = FilterEmptyInstances()(res)
    assert out is not None and len(out['gt_masks']) == 0


def test_contiguous_clip_sample(monkeypatch):
    from knet.datasets.transforms.frame_sampling import ContiguousClipSample
    video = dict(video_id=3, video_length=9, images=[
        dict(img_path=f'{i}.jpg', frame_id=i) for i in range(9)
    ])
    sampler = ContiguousClipSample(num_frames=5)
    starts = set()
    for _ in range(40):
        out = sampler(dict(video, key_frame_id=1,
                           images=[dict(f) for f in video['images']]))
        ids = out['frame_id']
        assert ids == list(range(ids[0], ids[0] + 5)) and 1 in ids
        assert out['key_frame_flags'][ids.index(1)]
        assert sum(out['key_frame_flags']) == 1
        starts.add(ids[0])
    assert starts == {0, 1}
    short = dict(video_id=1, video_length=2, key_frame_id=1,
                 images=[dict(frame_id=0), dict(frame_id=1)])
    out = sampler(short)
    assert out['frame_id'] == [0, 1, 1, 1, 1]
    assert out['key_frame_flags'][1] and sum(out['key_frame_flags']) == 1


def test_pack_video_panoptic_inputs():
    from knet.datasets.transforms.formatting import PackVideoPanopticInputs
    frames = [_frame_results(2), _frame_results(1)]
    results = {k: [f[k] for f in frames] for k in frames[0]}
    results.update(
        img=[np.zeros((4, 5, 3), np.uint8)] * 2, img_id=[0, 1],
        frame_id=[4, 3], video_id=[7, 7], seq_name=['x', 'x'],
        key_frame_flags=[True, False],
        gt_seg_map=[np.full((4, 5), 255, np.uint8),
                    np.ones((4, 5), np.uint8)])
    packed = PackVideoPanopticInputs()(results)
    assert tuple(packed['inputs'].shape) == (2, 3, 4, 5)
    track = packed['data_samples']
    assert track.key_frames_inds == [0] and track.ref_frames_inds == [1]
    first, second = track.video_data_samples
    assert first.gt_sem_seg.sem_seg.dtype == mmdet_torch().int64
    assert tuple(first.gt_sem_seg.sem_seg.shape) == (1, 4, 5)
    assert int(second.gt_sem_seg.sem_seg.max()) == 1
    assert first.gt_instances.instances_ids.tolist() == [10, 11]
    assert first.gt_instances.labels.dtype == mmdet_torch().int64
    assert second.seq_name == 'x' and second.frame_id == 3


def mmdet_torch():
    import torch
    return torch


def test_loader_names_a_broken_file(tmp_path):
    from knet.datasets.transforms.loading import LoadKittiStepPanoptic
    bad = tmp_path / 'x_panoptic.png'
    bad.write_bytes(b'not a png')
    loader = LoadKittiStepPanoptic()
    with pytest.raises(Exception, match='x_panoptic.png'):
        loader(dict(seg_map_path=str(bad), label_ids=(11, 13), num_things=2))


def test_loader_checks_label_size(tmp_path):
    from knet.datasets.transforms.loading import LoadKittiStepPanoptic
    from knet.formats.io import save_image
    from knet.formats.kitti_step import encode_kitti_step
    sem = np.array([[11, 11, 0], [13, 255, 0]], np.uint8)
    inst = np.array([[300, 300, 0], [0, 0, 0]])
    path = tmp_path / 'f_panoptic.png'
    save_image(path, encode_kitti_step(sem, inst))
    loader = LoadKittiStepPanoptic()
    out = loader(dict(seg_map_path=str(path), label_ids=(11, 13, 0),
                      num_things=2, ori_shape=(2, 3)))
    np.testing.assert_array_equal(out['gt_seg_map'], [[0, 0, 2],
                                                      [1, 255, 2]])
    assert out['gt_instances_ids'].tolist() == [110300]
    np.testing.assert_array_equal(out['gt_bboxes'], [[0, 0, 2, 1]])
    with pytest.raises(ValueError, match='f_panoptic.png: label size 2x3'):
        loader(dict(seg_map_path=str(path), label_ids=(11, 13, 0),
                    num_things=2, ori_shape=(4, 3)))
