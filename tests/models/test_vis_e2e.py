"""End-to-end VideoKNetVIS on synthetic YouTube-VIS 2019 (CPU, tiny model):
raw official layout -> youtubevis2coco.py -> train through mmengine's Runner
-> test writing results.json + the submission zip -> AP on a hold-out."""
import json
import os.path as osp
import time
import zipfile

import numpy as np
import pytest

from tests.models.test_vis_helpers import ROOT, prepare_synthetic, \
    tiny_vis_model

pytest.importorskip('mmdet')

SIZE = (64, 96)
CONFIG = osp.join(ROOT, 'configs/video_knet_vis/'
                  'video_knet_vis_r50_1x_youtube-vis-2019.py')


def make_cfg(data_root, work_dir, *, iters=None, epochs=None,
             window_size=0, window_overlap=0, num_proposals=8, lr=1e-3,
             holdout=False, format_only=True, outfile_prefix=None,
             clip_frames=5, eval_on_train=False):
    """The release config with the tiny model and small frames."""
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    cfg.model = tiny_vis_model(num_proposals=num_proposals,
                               window_size=window_size,
                               window_overlap=window_overlap)
    cfg.work_dir = str(work_dir)
    resize = dict(type='Resize', scale=SIZE[::-1], keep_ratio=True)
    train_pipeline = [
        dict(type='ContiguousClipSample', num_frames=clip_frames),
        dict(type='TransformBroadcaster', share_random_params=True,
             transforms=[
                 dict(type='LoadImageFromFile'),
                 dict(type='LoadTrackAnnotations', with_mask=True), resize,
                 dict(type='RandomFlip', prob=0.5)]),
        dict(type='PackTrackInputs'),
    ]
    test_pipeline = [
        dict(type='TransformBroadcaster', transforms=[
            dict(type='LoadImageFromFile'), resize,
            dict(type='LoadTrackAnnotations', with_mask=True)]),
        dict(type='PackTrackInputs'),
    ]
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = str(data_root) + '/'
    tr = cfg.train_dataloader
    tr.batch_size = 2
    tr.dataset.pipeline = train_pipeline
    if holdout:
        tr.dataset.ann_file = \
            'annotations/youtube_vis_2019_holdout_train.json'
    for key in ('val_dataloader', 'test_dataloader'):
        ds = cfg[key].dataset
        ds.pipeline = test_pipeline
        if holdout:
            ds.ann_file = 'annotations/youtube_vis_2019_holdout_val.json'
            ds.data_prefix = dict(img_path='train/JPEGImages')
        elif eval_on_train:
            ds.ann_file = tr.dataset.ann_file
            ds.data_prefix = dict(img_path='train/JPEGImages')
    for key in ('val_evaluator', 'test_evaluator'):
        cfg[key].format_only = format_only
        cfg[key].outfile_prefix = outfile_prefix or str(work_dir)
    if iters is not None:
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters)
        cfg.param_scheduler = []
        cfg.default_hooks.checkpoint = dict(
            type='CheckpointHook', interval=iters, by_epoch=False)
        cfg.log_processor = dict(by_epoch=False)
    else:
        cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs)
        cfg.param_scheduler = [
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                 end=20),
            dict(type='MultiStepLR', begin=0, end=epochs, by_epoch=True,
                 milestones=[int(epochs * 0.8)], gamma=0.1)]
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                            interval=epochs)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10)
    cfg.default_hooks.visualization = dict(type='DetVisualizationHook')
    cfg.optim_wrapper.optimizer.lr = lr
    cfg.randomness = dict(seed=0)
    return cfg


def run_train_test(cfg):
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner, runner.test()


def test_vis_convert_train_test(tmp_path):
    data = tmp_path / 'youtube_vis_2019'
    manifest = prepare_synthetic(str(data), videos=2, frames=6, size=SIZE,
                                 seed=3)
    cfg = make_cfg(data, tmp_path / 'work', iters=2)
    t0 = time.time()
    runner, metrics = run_train_test(cfg)
    assert time.time() - t0 < 300
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')
    # the valid split of the synthetic release: 1 video of 6 frames
    results = json.loads((tmp_path / 'work' / 'results.json').read_text())
    valid = [v for v in manifest['videos'] if v['split'] == 'valid']
    assert len(valid) == 1
    assert len(results) == 10  # top-10 (kernel, class) pairs
    for r in results:
        assert r['video_id'] == 1
        assert 1 <= r['category_id'] <= 40
        assert 0 <= r['score'] <= 1
        assert len(r['segmentations']) == len(valid[0]['frames'])
        for seg in r['segmentations']:
            assert seg is None or seg['size'] == list(SIZE)
    zpath = tmp_path / 'work' / 'submission_file.zip'
    with zipfile.ZipFile(zpath) as z:
        assert z.namelist() == ['results.json']
        assert json.loads(z.read('results.json')) == results
    # scores sorted, one entry per (kernel, class) pair
    scores = [r['score'] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_vis_holdout_metric(tmp_path):
    """A local AP through (KNet)YouTubeVISMetric on a hold-out split."""
    data = tmp_path / 'youtube_vis_2019'
    prepare_synthetic(str(data), videos=3, frames=5, size=SIZE, seed=4,
                      holdout=1)
    cfg = make_cfg(data, tmp_path / 'work', iters=1, holdout=True,
                   format_only=False)
    _, metrics = run_train_test(cfg)
    ap = metrics['youtube_vis/segm_mAP']
    assert 0.0 <= ap <= 1.0 and np.isfinite(ap)


@pytest.mark.slow
def test_vis_overfit_reaches_ap(tmp_path):
    """Train the tiny model on two short synthetic videos and evaluate on
    them: AP >= 0.8 as one clip per video (measured 0.833, 246 s of
    training on the shared 2-core CPU); in 3-frame windows (shorter than
    the 5-frame training clips) AP 0.767."""
    import torch
    torch.set_num_threads(1)
    data = tmp_path / 'youtube_vis_2019'
    prepare_synthetic(str(data), videos=2, frames=6, size=SIZE, seed=5)
    cfg = make_cfg(data, tmp_path / 'work', epochs=80, lr=1e-3,
                   format_only=False, eval_on_train=True)
    t0 = time.time()
    runner, metrics = run_train_test(cfg)
    print(f'VIS overfit: {time.time() - t0:.0f} s, whole-video AP '
          f'{metrics["youtube_vis/segm_mAP"]:.3f}')
    assert metrics['youtube_vis/segm_mAP'] >= 0.8
    model = runner.model
    model.window_size, model.window_overlap = 3, 1
    # a second evaluation with the same metric (its state is reset)
    windowed = runner.test()
    print(f'VIS overfit: windowed (3 frames, overlap 1) AP '
          f'{windowed["youtube_vis/segm_mAP"]:.3f}')
    assert windowed['youtube_vis/segm_mAP'] >= 0.7  # measured 0.767
