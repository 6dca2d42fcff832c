"""YouTube-VIS: synthetic official JSON -> youtubevis2coco -> config."""
import os.path as osp

import numpy as np
import pytest

from tests.datasets._dataset_helpers import build, load_config, run_script

pytest.importorskip('mmdet')


def _prepare(tmp, version):
    from knet.datasets.synthetic import make_synthetic
    root = tmp / f'youtube_vis_{version}'
    manifest = make_synthetic(f'youtube_vis_{version}', root, videos=2,
                              frames=8, size=(40, 72), seed=11)
    assert run_script('tools/dataset/youtubevis2coco.py', [
        '-i', manifest['ann_dir'], '-o', root / 'annotations', '--version',
        version
    ]) == 0
    return manifest, str(root) + '/'


@pytest.fixture(scope='module')
def ytvis(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ytvis')
    manifest, root = _prepare(tmp, '2019')
    return manifest, root, load_config('youtube_vis_2019.py')


def test_2021_config_builds(tmp_path):
    manifest, root = _prepare(tmp_path, '2021')
    cfg = load_config('youtube_vis_2021.py')
    assert cfg.train_dataloader.dataset.dataset_version == '2021'
    ds = build(cfg.train_dataloader.dataset, data_root=root)
    from knet.formats.youtube_vis import ytvis_classes
    classes = tuple(ds.metainfo['classes'])
    assert classes == tuple(ytvis_classes('2021')) and len(ds) == 2
    assert classes != tuple(ytvis_classes('2019'))
    sample = ds[(0, 3)]
    assert sample['inputs'].shape[0] == 5


def test_labels_and_clips(ytvis):
    manifest, root, cfg = ytvis
    pipeline = [
        dict(type='ContiguousClipSample', num_frames=5),
        dict(type='TransformBroadcaster', share_random_params=True,
             transforms=[dict(type='LoadImageFromFile'),
                         dict(type='LoadTrackAnnotations', with_mask=True)]),
        dict(type='PackTrackInputs'),
    ]
    ds = build(cfg.train_dataloader.dataset, data_root=root,
               pipeline=pipeline)
    assert len(ds.metainfo['classes']) == 40
    videos = {v['name']: v for v in manifest['videos']
              if v['split'] == 'train'}
    starts = set()
    n_checked = 0
    for v in range(len(ds)):
        for k in range(ds.get_len_per_video(v)):
            track = ds[(v, k)]['data_samples']
            frames = []
            for det in track.video_data_samples:
                name = osp.basename(osp.dirname(det.img_path))
                t = int(osp.splitext(osp.basename(det.img_path))[0]) // 5
                frames.append(t)
                truth = videos[name]['frames'][t]
                gi = det.gt_instances
                want = sorted(int(i) for i in np.unique(truth['instance'])
                              if i > 0)
                assert sorted(gi.instances_ids.tolist()) == want
                for j, tid in enumerate(gi.instances_ids.tolist()):
                    np.testing.assert_array_equal(
                        gi.masks.masks[j], truth['instance'] == tid)
                    # 2019 category ids 1..40 in class order
                    assert gi.labels[j].item() == \
                        videos[name]['things'][tid] - 1
                n_checked += 1
            # five consecutive frames holding the key frame
            assert frames == list(range(frames[0], frames[0] + 5))
            key = track.video_data_samples[track.key_frames_inds[0]]
            assert key.frame_id == k
            if k == 4:
                starts.add(frames[0])
    assert n_checked == 2 * 8 * 5
    # the clip around frame 4 is redrawn (here: a single draw per video)
    for _ in range(10):
        track = ds[(0, 4)]['data_samples']
        starts.add(track.video_data_samples[0].frame_id)
    assert len(starts) >= 2 and starts <= {0, 1, 2, 3, 4}


def test_train_and_val_pipelines(ytvis):
    _, root, cfg = ytvis
    ds = build(cfg.train_dataloader.dataset, data_root=root)
    for _ in range(3):
        track = ds[(1, 2)]['data_samples']
        shapes = {d.img_shape for d in track.video_data_samples}
        flips = {d.flip for d in track.video_data_samples}
        assert len(shapes) == 1 and len(flips) == 1
        assert min(shapes.pop()) in (288, 320, 352, 392, 416, 448, 480, 512)
    val = build(cfg.val_dataloader.dataset, data_root=root)
    sample = val[(0, 0)]
    assert sample['inputs'].shape[:2] == (1, 3)
    assert sample['inputs'].shape[-1] == 640
