"""End-to-end smoke run of Video K-Net through the real configs: synthetic
KITTI-STEP raw data -> scripts/kitti_step_prepare.py -> KittiStepDataset
(train pipeline with its reference-frame sampling, shrunk sizes) -> a few
training iterations of the tiny model -> the test loop with the KITTI-STEP
metric (STQ / VPQ)."""
import copy
import math
from pathlib import Path

import pytest

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from tests.datasets._dataset_helpers import run_script  # noqa: E402

CFG = Path(__file__).resolve().parents[1] / 'data' / 'video_knet_kitti_tiny.py'
H, W = 64, 128


def _small_train_pipeline(pipeline):
    pipeline = copy.deepcopy(pipeline)
    broadcast = pipeline[1]['transforms']
    for i, t in enumerate(broadcast):
        if t['type'] == 'RandomResize':
            broadcast[i] = dict(type='RandomResize', scale=(W, H),
                                ratio_range=(0.9, 1.1), keep_ratio=True)
        if t['type'] == 'RandomCrop':
            broadcast[i] = dict(t, crop_size=(W, H))
    return pipeline


@pytest.mark.slow
def test_train_then_test_on_synthetic_kitti_step(tmp_path):
    from knet.datasets.synthetic import make_synthetic
    make_synthetic('kitti-step', tmp_path / 'raw', videos=3, frames=4,
                   size=(H, W), seed=0)
    assert run_script('scripts/kitti_step_prepare.py',
                      ['--src', tmp_path / 'raw', '--dst',
                       tmp_path / 'ks']) == 0
    root = str(tmp_path / 'ks') + '/'

    cfg = Config.fromfile(str(CFG))
    cfg.work_dir = str(tmp_path / 'work')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
        cfg[key].dataset.data_root = root
    cfg.train_dataloader.dataset.pipeline = _small_train_pipeline(
        cfg.train_dataloader.dataset.pipeline)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=3,
                         val_interval=1000)
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=3)
    ]
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=3,
                                        by_epoch=False)
    cfg.log_processor = dict(type='LogProcessor', window_size=1,
                             by_epoch=False)
    cfg.find_unused_parameters = False
    # no validation during the run; the test loop evaluates afterwards
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None

    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (tmp_path / 'work' / 'iter_3.pth').is_file()
    metrics = runner.test()
    stq = [v for k, v in metrics.items() if k.endswith('STQ')]
    vpq = [v for k, v in metrics.items() if 'VPQ' in k]
    assert stq and vpq, metrics
    assert all(math.isfinite(v) for v in stq + vpq)
