"""VIPSeg dataset: synthetic raw download -> vipseg_prepare -> config."""
import numpy as np
import pytest

from tests.datasets._dataset_helpers import (build, load_config,
                                             plain_pipeline, run_script,
                                             with_homography)

pytest.importorskip('mmdet')


@pytest.fixture(scope='module')
def vipseg(tmp_path_factory):
    from knet.datasets.synthetic import make_synthetic
    tmp = tmp_path_factory.mktemp('vipseg')
    manifest = make_synthetic('vipseg', tmp / 'raw', videos=3, frames=4,
                              size=(48, 80), seed=5, test_videos=1,
                              layout='original')
    # --short-side 48 keeps the frames' size, so the painted truth applies
    assert run_script('tools/dataset/vipseg_prepare.py', [
        '--src', tmp / 'raw', '--dst', tmp / 'VIPSeg', '--short-side', 48
    ]) == 0
    return manifest, str(tmp / 'VIPSeg') + '/', load_config('vipseg_vps.py')


def test_metainfo_official_categories(vipseg):
    _, root, cfg = vipseg
    meta = build(cfg.train_dataloader.dataset, data_root=root).metainfo
    assert len(meta['classes']) == 124
    assert len(meta['thing_classes']) == 58
    assert len(meta['stuff_classes']) == 66
    # things in category-id order first (door = 2 ... train = 123), then
    # stuff (wall = 0, ceiling = 1, stair = 3, ...)
    assert meta['label_ids'][:3] == (2, 4, 8)
    assert meta['label_ids'][57] == 123 and meta['classes'][57] == 'train'
    assert meta['label_ids'][58:61] == (0, 1, 3)
    assert meta['classes'][58:61] == ('wall', 'ceiling', 'stair')
    assert meta['classes'][0] == 'door'
    assert sorted(meta['label_ids']) == list(range(124))


def test_split_files_and_test_videos(vipseg):
    manifest, root, cfg = vipseg
    train = build(cfg.train_dataloader.dataset, data_root=root)
    names = [train.get_data_info(i)['seq_name'] for i in range(len(train))]
    assert names == manifest['splits']['train']
    test = build(cfg.val_dataloader.dataset, data_root=root,
                 ann_file='test.txt')
    info = test.get_data_info(0)
    assert info['seq_name'] == manifest['splits']['test'][0]
    assert all(f['seg_map_path'] is None for f in info['images'])
    sample = test[(0, 1)]
    assert sample['inputs'].shape == (1, 3, 48, 80)


def test_labels_pixel_exact(vipseg):
    manifest, root, cfg = vipseg
    meta_ids = build(cfg.train_dataloader.dataset,
                     data_root=root).metainfo['label_ids']
    model_label = {cid: i for i, cid in enumerate(meta_ids)}
    by_name = {v['name']: v for v in manifest['videos']}
    for split in ('train', 'val'):
        ds = build(cfg.train_dataloader.dataset, data_root=root,
                   ann_file=f'{split}.txt',
                   pipeline=plain_pipeline(dict(type='LoadVIPSegPanoptic')))
        n_instances = 0
        for v in range(len(ds)):
            for f in range(ds.get_len_per_video(v)):
                for det in ds[(v, f)]['data_samples'].video_data_samples:
                    video = by_name[det.seq_name]
                    truth = video['frames'][det.frame_id]
                    sem, raw = truth['semantic'], truth['panomask']
                    expect = np.full(sem.shape, 255, np.int64)
                    for cid in np.unique(sem):
                        if cid != 255:
                            expect[sem == cid] = model_label[int(cid)]
                    np.testing.assert_array_equal(
                        det.gt_sem_seg.sem_seg[0].numpy(), expect)
                    assert (expect[truth['void']] == 255).all()
                    gi = det.gt_instances
                    want = sorted(int(r) for r in np.unique(raw)
                                  if int(r) in video['things'])
                    assert gi.instances_ids.tolist() == want
                    for k, key in enumerate(want):
                        np.testing.assert_array_equal(gi.masks.masks[k],
                                                      raw == key)
                        assert gi.labels[k].item() == model_label[
                            video['things'][key]]
                        assert gi.labels[k].item() < 58
                    n_instances += len(want)
        assert n_instances > 0


def test_train_pipeline_shared_and_resampled(vipseg):
    _, root, cfg = vipseg
    ds = build(cfg.train_dataloader.dataset, data_root=root,
               pipeline=with_homography(cfg.train_pipeline))
    offsets = set()
    for _ in range(10):
        track = ds[(0, 1)]['data_samples']
        key = track.video_data_samples[track.key_frames_inds[0]]
        ref = track.video_data_samples[track.ref_frames_inds[0]]
        offsets.add(ref.frame_id - key.frame_id)
        assert key.flip == ref.flip
        np.testing.assert_array_equal(key.homography_matrix,
                                      ref.homography_matrix)
        # short side 720 .. 1440, then cropped to at most 736 x 736
        assert max(key.img_shape) <= 736
        assert key.gt_sem_seg.sem_seg.shape[-2:] == key.img_shape
    assert offsets <= {-1, 1, 2} and len(offsets) >= 2
