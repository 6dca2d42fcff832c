"""Cityscapes-VPS dataset: synthetic VPSNet layout -> config -> samples."""
import numpy as np
import pytest

from tests.datasets._dataset_helpers import (build, load_config,
                                             plain_pipeline, with_homography)

pytest.importorskip('mmdet')

# trainIds 11..18 (things) -> 0..7, 0..10 (stuff) -> 8..18, by hand.
HAND_LABEL = {11: 0, 12: 1, 13: 2, 14: 3, 15: 4, 16: 5, 17: 6, 18: 7,
              **{t: 8 + t for t in range(11)}}


@pytest.fixture(scope='module')
def cvps(tmp_path_factory):
    from knet.datasets.synthetic import make_synthetic
    tmp = tmp_path_factory.mktemp('cvps')
    manifest = make_synthetic('cityscapes-vps', tmp / 'cvps', videos=3,
                              frames=3, size=(40, 80), seed=7)
    return manifest, str(tmp / 'cvps') + '/', load_config('cityscapes_vps.py')


def test_metainfo(cvps):
    _, root, cfg = cvps
    meta = build(cfg.train_dataloader.dataset, data_root=root).metainfo
    assert meta['label_ids'] == tuple(range(11, 19)) + tuple(range(11))
    assert meta['thing_classes'][0] == 'person'
    assert meta['classes'][8] == 'road'


@pytest.mark.parametrize('split', ['train', 'val'])
def test_labels_pixel_exact(cvps, split):
    manifest, root, cfg = cvps
    base = cfg.train_dataloader.dataset if split == 'train' else \
        cfg.val_dataloader.dataset
    ds = build(base, data_root=root, test_mode=False,
               pipeline=plain_pipeline(
                   dict(type='LoadCityscapesVPSPanoptic'), frame_range=1))
    videos = {v['name']: v for v in manifest['videos'] if v['split'] == split}
    assert [ds.get_data_info(i)['seq_name'] for i in range(len(ds))] == \
        sorted(videos)
    n_instances = n_crowd = 0
    for v in range(len(ds)):
        assert ds.get_len_per_video(v) == 3  # annotated frames only
        for f in range(3):
            for det in ds[(v, f)]['data_samples'].video_data_samples:
                video = videos[det.seq_name]
                truth = video['frames'][det.frame_id]
                sem, inst = truth['semantic'], truth['instance']
                crowd = truth['crowd']
                expect = np.full(sem.shape, 255, np.int64)
                for tid, label in HAND_LABEL.items():
                    expect[sem == tid] = label
                np.testing.assert_array_equal(
                    det.gt_sem_seg.sem_seg[0].numpy(), expect)
                gi = det.gt_instances
                want = sorted(int(sem[inst == i][0]) * 1000 + int(i)
                              for i in np.unique(inst[inst > 0]))
                assert gi.instances_ids.tolist() == want
                for k, key in enumerate(want):
                    cls, obj = divmod(key, 1000)
                    np.testing.assert_array_equal(gi.masks.masks[k],
                                                  inst == obj)
                    assert gi.labels[k].item() == HAND_LABEL[cls]
                if len(want):
                    assert not (gi.masks.masks.any(0) & crowd).any()
                n_instances += len(want)
                n_crowd += int(crowd.sum())
    assert n_instances > 0 and n_crowd > 0


def test_reference_offsets_and_shared_augmentation(cvps):
    _, root, cfg = cvps
    pipeline = with_homography(cfg.train_pipeline)
    # The release's scales (up to 4096 px) are too big for a unit test.
    pipeline[1]['transforms'][2]['scale'] = [(160, 80), (320, 160)]
    pipeline[1]['transforms'][4]['crop_size'] = (96, 96)
    ds = build(cfg.train_dataloader.dataset, data_root=root,
               pipeline=pipeline)
    offsets = set()
    for _ in range(12):
        track = ds[(0, 1)]['data_samples']
        key = track.video_data_samples[track.key_frames_inds[0]]
        ref = track.video_data_samples[track.ref_frames_inds[0]]
        offsets.add(ref.frame_id - key.frame_id)
        assert key.flip == ref.flip
        np.testing.assert_array_equal(key.homography_matrix,
                                      ref.homography_matrix)
    assert offsets == {-1, 1}


def test_all_frames_split(cvps):
    manifest, root, cfg = cvps
    ds = build(cfg.cityscapes_vps_all_frames, data_root=root)
    val = [v for v in manifest['videos'] if v['split'] == 'val']
    assert len(ds) == len(val)
    assert ds.get_len_per_video(0) == 15
    det = ds[(0, 14)]['data_samples'].video_data_samples[0]
    assert det.seg_map_path is None and det.ori_shape == (40, 80)
