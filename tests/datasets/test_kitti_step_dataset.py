"""KITTI-STEP dataset: synthetic raw data -> converter -> config -> samples."""
import numpy as np
import pytest

from tests.datasets._dataset_helpers import (build, load_config,
                                             plain_pipeline, run_script,
                                             with_homography)

pytest.importorskip('mmdet')

# Model label of each trainId, written out by hand from the rule "things
# person (11), car (13) first, then the other trainIds in order".
HAND_LABEL = {11: 0, 13: 1, 0: 2, 1: 3, 2: 4, 3: 5, 4: 6, 5: 7, 6: 8, 7: 9,
              8: 10, 9: 11, 10: 12, 12: 13, 14: 14, 15: 15, 16: 16, 17: 17,
              18: 18}


@pytest.fixture(scope='module')
def kitti(tmp_path_factory):
    from knet.datasets.synthetic import make_synthetic
    tmp = tmp_path_factory.mktemp('kitti')
    manifest = make_synthetic('kitti-step', tmp / 'raw', videos=3, frames=5,
                              size=(48, 96), seed=3, test_videos=1)
    assert run_script('scripts/kitti_step_prepare.py',
                      ['--src', tmp / 'raw', '--dst', tmp / 'ks']) == 0
    cfg = load_config('kitti_step_vps.py')
    return manifest, str(tmp / 'ks') + '/', cfg


def _video(manifest, split, seq_name):
    for video in manifest['videos']:
        if video['split'] == split and int(video['name']) == int(seq_name):
            return video
    raise KeyError(seq_name)


def test_metainfo_order(kitti):
    _, root, cfg = kitti
    ds = build(cfg.train_dataloader.dataset, data_root=root)
    meta = ds.metainfo
    assert meta['label_ids'] == (11, 13, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                 12, 14, 15, 16, 17, 18)
    assert meta['classes'][:3] == ('person', 'car', 'road')
    assert meta['thing_classes'] == ('person', 'car')
    assert len(meta['stuff_classes']) == 17 and 'rider' in \
        meta['stuff_classes']
    assert meta['palette'][0] == (220, 20, 60)  # person colour
    assert meta['ignore_index'] == 255


def test_index_matches_splits(kitti):
    manifest, root, cfg = kitti
    train = build(cfg.train_dataloader.dataset, data_root=root)
    val = build(cfg.val_dataloader.dataset, data_root=root)
    test = build(cfg.kitti_step_test_split, data_root=root)
    # sequences 0, 1 are train, 2 is val; one unlabelled test sequence
    assert [train.get_data_info(i)['video_id'] for i in range(len(train))] \
        == [0, 1]
    assert [val.get_data_info(i)['video_id'] for i in range(len(val))] == [2]
    info = test.get_data_info(0)
    assert info['video_length'] == 5
    assert all(f['seg_map_path'] is None for f in info['images'])
    frames = [f['frame_id'] for f in train.get_data_info(1)['images']]
    assert frames == [0, 1, 2, 3, 4]
    img_ids = [f['img_id'] for i in range(len(train))
               for f in train.get_data_info(i)['images']]
    assert len(set(img_ids)) == len(img_ids) == 10


def test_labels_pixel_exact(kitti):
    manifest, root, cfg = kitti
    ds = build(cfg.train_dataloader.dataset, data_root=root,
               pipeline=plain_pipeline(dict(type='LoadKittiStepPanoptic')))
    checked = n_instances = 0
    for v in range(len(ds)):
        for f in range(ds.get_len_per_video(v)):
            sample = ds[(v, f)]
            assert sample['inputs'].dtype.is_floating_point is False
            for det in sample['data_samples'].video_data_samples:
                video = _video(manifest, 'train', det.seq_name)
                truth = video['frames'][det.frame_id]
                sem, inst = truth['semantic'], truth['instance']
                crowd, void = truth['crowd'], truth['void']
                # semantic map in model labels, void 255, crowd keeps class
                expect = np.full(sem.shape, 255, np.int64)
                for train_id, label in HAND_LABEL.items():
                    expect[sem == train_id] = label
                got = det.gt_sem_seg.sem_seg[0].numpy()
                assert got.dtype == np.int64
                np.testing.assert_array_equal(got, expect)
                assert (got[void] == 255).all()
                # instances: one per painted non-crowd thing, id trainId*1e4+i
                gi = det.gt_instances
                ids = gi.instances_ids.numpy().tolist()
                expected_ids = []
                for inst_id, cls in sorted(video['things'].items()):
                    mask = (inst == int(inst_id)) & (sem == cls) & ~crowd
                    if mask.any():
                        expected_ids.append(cls * 10000 + int(inst_id))
                assert sorted(ids) == sorted(expected_ids)
                assert ids == sorted(ids)
                for k, key in enumerate(ids):
                    cls, inst_id = divmod(key, 10000)
                    mask = (inst == inst_id) & (sem == cls) & ~crowd
                    np.testing.assert_array_equal(gi.masks.masks[k], mask)
                    assert gi.labels[k].item() == {11: 0, 13: 1}[cls]
                    ys, xs = np.nonzero(mask)
                    np.testing.assert_allclose(
                        gi.bboxes[k].numpy(),
                        [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
                # crowd pixels are in no instance mask
                if len(ids):
                    assert not (gi.masks.masks.any(0) & crowd).any()
                assert gi.labels.dtype == gi.instances_ids.dtype
                checked += 1
                n_instances += len(ids)
    assert checked == 2 * 10 and n_instances > 20
    # the generator painted crowd somewhere, so the crowd path was exercised
    assert any(fr['crowd'].any() for vid in manifest['videos']
               if vid['split'] == 'train' for fr in vid['frames'])


def test_reference_frames_resampled_and_shared_augmentation(kitti):
    _, root, cfg = kitti
    pipeline = with_homography(cfg.train_pipeline)
    ds = build(cfg.train_dataloader.dataset, data_root=root,
               pipeline=pipeline)
    offsets, flips, matrices = set(), set(), set()
    for _ in range(16):
        sample = ds[(0, 2)]
        track = sample['data_samples']
        key = track.video_data_samples[track.key_frames_inds[0]]
        ref = track.video_data_samples[track.ref_frames_inds[0]]
        assert key.frame_id == 2
        offsets.add(ref.frame_id - key.frame_id)
        # one flip / scale / crop for all frames of the sample
        assert key.flip == ref.flip
        assert key.scale_factor == ref.scale_factor
        assert key.img_shape == ref.img_shape
        np.testing.assert_array_equal(key.homography_matrix,
                                      ref.homography_matrix)
        flips.add(key.flip)
        matrices.add(np.round(key.homography_matrix, 4).tobytes())
        assert sample['inputs'].shape[0] == 2
        # padded to 32, 255 on the padding of the semantic map
        h, w = sample['inputs'].shape[-2:]
        assert h % 32 == 0 and w % 32 == 0
        assert key.gt_instances.masks.masks.shape[-2:] == (h, w)
        # after resize/flip/crop: masks, labels, ids and boxes stay aligned
        for det in (key, ref):
            gi, sem = det.gt_instances, det.gt_sem_seg.sem_seg[0].numpy()
            ids = gi.instances_ids.tolist()
            assert len(set(ids)) == len(ids) == len(gi.labels) == \
                len(gi.masks) == len(gi.bboxes)
            for k, mask in enumerate(gi.masks.masks.astype(bool)):
                assert mask.any()
                assert (sem[mask] == gi.labels[k].item()).all()
                assert {11: 0, 13: 1}[ids[k] // 10000] == gi.labels[k].item()
    assert offsets <= {-2, -1, 1, 2} and len(offsets) >= 2
    assert flips == {True, False}
    assert len(matrices) > 2
    # at the start of a sequence the reference lies after the key frame
    starts = {ds[(0, 0)]['data_samples'].video_data_samples[1].frame_id
              for _ in range(8)}
    assert starts <= {1, 2}


def test_val_and_test_pipelines(kitti):
    _, root, cfg = kitti
    val = build(cfg.val_dataloader.dataset, data_root=root)
    sample = val[(0, 3)]
    assert sample['inputs'].shape == (1, 3, 48, 96)
    det = sample['data_samples'].video_data_samples[0]
    assert (det.video_id, det.frame_id, det.ori_video_length) == (2, 3, 5)
    assert det.seq_name == '000002'
    assert det.scale_factor == (1.0, 1.0) and det.flip is False
    assert det.img_shape == det.ori_shape == (48, 96)
    test = build(cfg.kitti_step_test_split, data_root=root)
    det = test[(0, 0)]['data_samples'].video_data_samples[0]
    assert det.seg_map_path is None and 'gt_sem_seg' not in det


def test_missing_label_is_named(kitti, tmp_path):
    import shutil
    _, root, cfg = kitti
    shutil.copytree(root, tmp_path / 'ks', symlinks=True)
    victim = tmp_path / 'ks/video_sequence/train/000001_000003_panoptic.png'
    victim.unlink()
    with pytest.raises(FileNotFoundError, match='000001_000003_panoptic'):
        build(cfg.train_dataloader.dataset, data_root=str(tmp_path / 'ks'))
