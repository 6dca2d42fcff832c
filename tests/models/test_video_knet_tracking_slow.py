"""Issue 6 acceptance (slow, CPU, a few minutes): after training the tiny
Video K-Net (tests/data/video_knet_kitti_e2e.py) on two short synthetic
KITTI-STEP sequences, evaluating on those same sequences gives AQ >= 0.8:
the model segments the things and keeps their ids across frames.

Run with ``pytest -m slow tests/models/test_video_knet_tracking_slow.py -s``
(prints the time and the metrics)."""
import time
from pathlib import Path

import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from tests.datasets._dataset_helpers import run_script  # noqa: E402

CFG = Path(__file__).resolve().parents[1] / 'data' / 'video_knet_kitti_e2e.py'
H, W = 64, 128
ITERS = 800

# Memorising a few frames: the key / reference pair sampling and a shared
# flip, no rescaling or cropping.
TRAIN_PIPELINE = [
    dict(type='UniformRefFrameSample', num_ref_imgs=1, frame_range=2,
         filter_key_img=True),
    dict(type='TransformBroadcaster', share_random_params=True,
         transforms=[
             dict(type='LoadImageFromFile'),
             dict(type='LoadKittiStepPanoptic'),
             dict(type='RandomFlip', prob=0.5),
             dict(type='FilterEmptyInstances', min_area=1),
             dict(type='Pad', size_divisor=32, pad_val=dict(img=0, seg=255)),
         ]),
    dict(type='PackVideoPanopticInputs'),
]


@pytest.fixture
def one_thread():
    """Small convolutions gain nothing from threads on a shared 2-core
    machine; oversubscribed, they run several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_tracks_the_training_sequences(tmp_path, one_thread):
    from knet.datasets.synthetic import make_synthetic
    start = time.time()
    # sequences 0 and 1 (both in the official train split), 4 frames each
    manifest = make_synthetic('kitti-step', tmp_path / 'raw', videos=2,
                              frames=4, size=(H, W), seed=0)
    assert manifest['splits']['train'] == ['0000', '0001']
    assert run_script('scripts/kitti_step_prepare.py',
                      ['--src', tmp_path / 'raw', '--dst',
                       tmp_path / 'ks']) == 0
    root = str(tmp_path / 'ks') + '/'

    cfg = Config.fromfile(str(CFG))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_dataloader.dataset.data_root = root
    cfg.train_dataloader.dataset.pipeline = TRAIN_PIPELINE
    # evaluate on the training sequences
    cfg.test_dataloader.dataset.data_root = root
    cfg.test_dataloader.dataset.data_prefix.img_path = 'video_sequence/train'
    cfg.train_cfg.max_iters = ITERS
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=50),
        dict(type='MultiStepLR', by_epoch=False, begin=0, end=ITERS,
             milestones=[int(ITERS * 0.8)], gamma=0.1)
    ]
    cfg.default_hooks.logger.interval = 50
    cfg.default_hooks.checkpoint.interval = ITERS
    cfg.randomness = dict(seed=0)

    runner = Runner.from_cfg(cfg)
    runner.train()
    trained = time.time()
    metrics = runner.test()
    done = time.time()
    print(f'\ntraining {ITERS} iterations: {trained - start:.0f} s, '
          f'test: {done - trained:.0f} s')
    print({k: round(v, 4) for k, v in metrics.items()})
    assert metrics['step/VPQ@4'] >= 0  # windows over whole sequences
    assert metrics['step/AQ'] >= 0.8, metrics
