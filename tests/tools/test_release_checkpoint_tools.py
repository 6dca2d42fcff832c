"""Original-release checkpoints and strict loading through the tools.

``python tools/test.py configs/video_knet_kitti.py RELEASE.pth`` works with
an unconverted checkpoint of the release: here a generated state dict with
exactly the keys and shapes of the original R50 KITTI-STEP model
(tests/data/release_keys/kitti_r50_keys.txt, recorded from the original
code) and random weights, evaluated on synthetic KITTI-STEP sequences. A
checkpoint that does not fit stops tools/test.py and the video demo with one
line naming the key; ``--no-strict`` loads it anyway.
"""
import logging
import math
import re
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

pytest.importorskip('mmdet')

try:
    from tests.tools._vps_helpers import (data_options, prepared_root,
                                          read_metrics, run)
except ImportError:  # tests/tools on sys.path only
    from _vps_helpers import data_options, prepared_root, read_metrics, run

REPO = Path(__file__).resolve().parents[2]
KEYS = REPO / 'tests' / 'data' / 'release_keys' / 'kitti_r50_keys.txt'
TINY = REPO / 'tests' / 'data' / 'video_knet_kitti_tiny.py'
LOADER = ['test_dataloader.num_workers=0',
          'test_dataloader.persistent_workers=False']


def release_r50_state_dict(seed: int = 0) -> 'OrderedDict':
    """The original R50 KITTI-STEP model's keys and shapes, random values
    (BN statistics valid: mean ~ 0, variance in [0.5, 1.5])."""
    g = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    for line in KEYS.read_text().splitlines():
        if not line.strip() or line.startswith('#'):
            continue
        key, shape, _ = line.split('\t')
        shape = [int(s) for s in re.findall(r'\d+', shape)]
        if key.endswith('num_batches_tracked'):
            value = torch.tensor(0)
        elif key.endswith('running_var') or (len(shape) == 1 and
                                             key.endswith('weight')):
            value = torch.rand(shape, generator=g) + 0.5
        elif key.endswith('bias') or key.endswith('running_mean'):
            value = torch.randn(shape, generator=g) * 0.1
        elif key == 'rpn_head.init_kernels.weight':
            value = torch.randn(shape, generator=g)
        else:
            value = torch.randn(shape, generator=g) / math.sqrt(
                math.prod(shape[1:]))
        sd[key] = value
    assert len(sd) == 549
    return sd


@pytest.fixture(scope='module')
def base(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / 'vps_e2e'  # shared data
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope='module')
def release_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp('release') / 'video_knet_r50_kitti.pth'
    torch.save({'state_dict': release_r50_state_dict(),
                'meta': {'mmdet_version': '2.18.0', 'epoch': 12}}, path)
    return path


def test_tools_test_runs_an_unconverted_release_checkpoint(
        base, release_ckpt, tmp_path):
    root = prepared_root(base)
    work = tmp_path / 'work'
    proc = run(['tools/test.py', 'configs/video_knet_kitti.py', release_ckpt,
                '--work-dir', work, '--cfg-options'] + data_options(root) +
               LOADER, timeout=900)
    out = proc.stdout + proc.stderr
    assert 'checkpoint of the original release' in out
    assert 'converted 549 tensors in memory' in out
    metrics = read_metrics(work)
    assert math.isfinite(metrics['step/STQ'])


def test_tools_test_refuses_a_checkpoint_that_does_not_fit(
        base, release_ckpt, tmp_path):
    ckpt = torch.load(release_ckpt, weights_only=True)
    del ckpt['state_dict']['roi_head.mask_head.1.fc_mask.weight']
    bad = tmp_path / 'bad.pth'
    torch.save(ckpt, bad)
    root = prepared_root(base)
    args = ['tools/test.py', 'configs/video_knet_kitti.py', bad,
            '--work-dir', tmp_path / 'work', '--cfg-options'
            ] + data_options(root) + LOADER
    proc = run(args, check=False, timeout=900)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(errors) == 1, proc.stderr[-2000:]
    assert 'does not fit the model' in errors[0]
    assert '1 missing (roi_head.mask_head.1.fc_mask.weight)' in errors[0]
    assert 'STQ' not in proc.stdout


def test_tools_test_no_strict_option_reaches_the_runner(tmp_path):
    """--no-strict sets the config's load_strict (which KNetRunner reads,
    tests/models/test_checkpoint_loading.py)."""
    import importlib.util

    from knet.engine.runner_setup import load_config, prepare_test_cfg
    spec = importlib.util.spec_from_file_location('test_tool',
                                                  REPO / 'tools/test.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    ckpt = tmp_path / 'c.pth'
    ckpt.write_bytes(b'x')
    for argv, strict in (([], True), (['--no-strict'], False)):
        args = tool.parse_args([str(TINY), str(ckpt)] + argv)
        cfg = load_config(str(TINY))
        assert cfg.runner_type == 'KNetRunner' and cfg.load_strict
        prepare_test_cfg(cfg, 'none', str(tmp_path), str(TINY), str(ckpt),
                         strict=not args.no_strict)
        assert cfg.load_strict is strict and cfg.load_from == str(ckpt)


def _tiny_release_checkpoint(path, drop=None):
    """The tiny config's own random weights, saved in the release's layout
    (neck list unpacked, semantic FPN inside the kernel head)."""
    from knet.apis import init_model
    torch.manual_seed(0)
    model = init_model(str(TINY), None)
    sd = OrderedDict()
    for k, v in model.state_dict().items():
        k = re.sub(r'^neck\.0\.', 'neck.', k)
        k = re.sub(r'^neck\.1\.', 'rpn_head.localization_fpn.', k)
        if k != drop:
            sd[k] = v
    torch.save({'state_dict': sd}, path)


def _demo():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'video_demo', REPO / 'tools' / 'demo' / 'video_demo.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _Capture(logging.Handler):

    def __init__(self):
        super().__init__()
        self.text = ''

    def emit(self, record):
        self.text += record.getMessage() + '\n'


def _logged(fn, *args):
    """Run ``fn(*args)``; the messages of MMEngine's current logger."""
    from mmengine.logging import MMLogger
    logger, capture = MMLogger.get_current_instance(), _Capture()
    logger.addHandler(capture)
    try:
        fn(*args)
    finally:
        logger.removeHandler(capture)
    return capture.text


def test_video_demo_release_checkpoint_and_strictness(tmp_path):
    import cv2
    import numpy as np
    frames = tmp_path / 'frames'
    frames.mkdir()
    for t in range(2):
        cv2.imwrite(str(frames / f'{t:06d}.png'),
                    np.full((64, 128, 3), 40 * t, np.uint8))
    good, bad = tmp_path / 'good.pth', tmp_path / 'bad.pth'
    _tiny_release_checkpoint(good)
    _tiny_release_checkpoint(bad, drop='track_head.fc_embed.bias')
    demo = _demo()
    log = _logged(demo.main, [str(TINY), str(good), '--input', str(frames),
                              '--out', str(tmp_path / 'out')])
    assert 'checkpoint of the original release' in log
    assert len(list((tmp_path / 'out').glob('*.png'))) == 2
    # the command line: one line naming the key, exit 1, nothing written
    proc = run(['tools/demo/video_demo.py', TINY, bad, '--input', frames,
                '--out', tmp_path / 'out2'], check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    err = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(err) == 1 and 'track_head.fc_embed.bias' in err[0]
    assert not (tmp_path / 'out2').exists()
    log = _logged(demo.main, [str(TINY), str(bad), '--input', str(frames),
                              '--out', str(tmp_path / 'out3'), '--no-strict'])
    assert len(list((tmp_path / 'out3').glob('*.png'))) == 2
    assert 'not strict' in log and 'track_head.fc_embed.bias' in log
