"""Video K-Net end to end through the command-line tools on synthetic
KITTI-STEP data (issue 6 acceptance): raw data -> scripts/kitti_step_prepare.py
-> tools/train.py (a few iterations of the e2e config) -> tools/test.py writes
the KITTI-STEP submission PNGs and reports STQ / AQ / SQ / VPQ;
``--format-only`` on the unlabelled test split writes PNGs only."""
import math

import numpy as np
import pytest

pytest.importorskip('mmdet')

try:
    from tests.tools._vps_helpers import (CONFIG, FRAMES, H, REPO,
                                          VAL_SEQS, W, data_options,
                                          prepared_root,
                                          read_metrics, run,
                                          single_process_test,
                                          trained_checkpoint)
except ImportError:  # tests/tools on sys.path only
    from _vps_helpers import (CONFIG, FRAMES, H, REPO, VAL_SEQS, W,  # noqa
                              data_options, prepared_root, read_metrics, run,
                              single_process_test, trained_checkpoint)

from knet.formats.io import read_image  # noqa: E402
from knet.formats.kitti_step import decode_kitti_step  # noqa: E402

THINGS = (11, 13)  # person, car trainIds


@pytest.fixture(scope='module')
def base(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / 'vps_e2e'
    path.mkdir(exist_ok=True)
    return path


def _pngs(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*.png'))


def _check_submission_png(path):
    """A KITTI-STEP prediction: H x W RGB, R = trainId 0..18 on every pixel,
    instance (G * 256 + B) only on thing pixels."""
    rgb = read_image(path)
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8, path
    sem, inst = decode_kitti_step(rgb)
    assert sem.max() <= 18, path  # every pixel gets a class, no void
    assert not inst[~np.isin(sem, THINGS)].any(), path
    return sem, inst


def test_train_then_test_writes_submission_and_reports_stq_vpq(base):
    result = single_process_test(base)
    sub = result['submission']
    expected = [f'{s:04d}/{f:06d}.png' for s in VAL_SEQS
                for f in range(FRAMES)]
    assert _pngs(sub) == expected
    for name in expected:
        _check_submission_png(sub / name)

    metrics = result['metrics']
    for key in ('STQ', 'AQ', 'SQ', 'VPQ', 'VPQ_thing', 'VPQ_stuff'):
        value = metrics[f'step/{key}']
        assert math.isfinite(value) and value >= 0, (key, metrics)
    assert metrics['step/STQ'] <= 1 and metrics['step/VPQ'] <= 100
    # STQ is the geometric mean of AQ and SQ
    assert metrics['step/STQ'] == pytest.approx(
        math.sqrt(metrics['step/AQ'] * metrics['step/SQ']), abs=1e-9)
    for w in range(1, FRAMES + 1):  # windows 1..4: whole 4-frame sequences
        assert metrics[f'step/VPQ@{w}'] >= 0
    assert 'step/STQ' in result['output']  # and the log shows them


def test_submission_scores_the_same_offline(base, tmp_path):
    """The written PNGs, scored by tools/eval_vps.py against the prepared
    ground truth files, give the metrics the test loop reported (the
    writer and the online metric agree)."""
    result = single_process_test(base)
    root = prepared_root(base)
    out = tmp_path / 'offline.json'
    run(['tools/eval_vps.py', 'kitti-step', '--gt-root', root, '--split',
         'val', '--pred-dir', result['submission'], '--out', out])
    import json
    offline = json.loads(out.read_text())
    online = result['metrics']
    for key in ('STQ', 'AQ', 'SQ', 'VPQ'):
        assert offline[key] == pytest.approx(online[f'step/{key}'],
                                             abs=1e-9), key


def test_format_only_on_the_unlabelled_test_split(base):
    root = prepared_root(base)
    ckpt = trained_checkpoint(base)
    work, sub = base / 'test_format_only', base / 'submission_test'
    proc = run(['tools/test.py', CONFIG, ckpt, '--work-dir', work,
                '--submission-dir', sub, '--format-only', '--cfg-options'] +
               data_options(root, split='test'))
    # testing/ sequence 0: no panoptic labels exist for it
    assert not list((base / 'kitti-step' / 'video_sequence' /
                     'test').glob('*_panoptic.png'))
    assert _pngs(sub) == [f'0000/{f:06d}.png' for f in range(FRAMES)]
    for name in _pngs(sub):
        _check_submission_png(sub / name)
    assert f'predictions written to {sub}' in proc.stdout + proc.stderr
    assert not any(k.startswith('step/') for k in read_metrics(work))


def test_format_only_needs_submission_dir(tmp_path):
    """Checked before anything is loaded (tools/test.py main, in process)."""
    import importlib.util

    from knet.utils.cli import UserError
    spec = importlib.util.spec_from_file_location(
        'knet_tools_test', REPO / 'tools' / 'test.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(UserError, match='--format-only needs '
                       '--submission-dir'):
        module.main([str(REPO / CONFIG), str(REPO / CONFIG),
                     '--format-only'])


def test_metric_over_test_mode_samples_agrees_with_offline_tool(base,
                                                                tmp_path):
    """The real test-mode samples (one frame each: mmdet sets
    ``video_length=1`` and keeps the real length in ``ori_video_length``)
    through KittiSTEPMetric, with the ground truth as the prediction: every
    VPQ window up to the sequence length is defined, and the metric equals
    tools/eval_vps.py on the PNGs it wrote (whole sequences read from
    files). Non-trivial values, unlike a few-iteration model's."""
    import json

    import torch
    from mmengine.config import Config
    from mmengine.structures import PixelData

    from knet.utils.setup_env import register_all_modules
    from mmdet.registry import DATASETS, METRICS
    register_all_modules(init_default_scope=True)

    root = prepared_root(base)
    cfg = Config.fromfile(CONFIG)
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = root
    dataset = DATASETS.build(ds_cfg)
    label_ids = dataset.metainfo['label_ids']
    to_label = np.full(256, 2, np.int64)  # void -> any class (ignored)
    to_label[list(label_ids)] = np.arange(len(label_ids))
    sub = tmp_path / 'gt_as_pred'
    metric = METRICS.build(dict(type='KittiSTEPMetric', outfile_prefix=str(
        sub)))
    metric.dataset_meta = dataset.metainfo
    for video in range(len(dataset)):
        for frame in range(dataset.get_len_per_video(video)):
            sample = dataset[(video, frame)]['data_samples']
            det = sample[0]
            assert det.video_length == 1 and det.ori_video_length == FRAMES
            sem, inst = decode_kitti_step(read_image(det.seg_map_path))
            track = np.where(np.isin(sem, THINGS), inst, 0)
            det.pred_panoptic_seg = PixelData(
                sem_seg=torch.from_numpy(to_label[sem])[None],
                track_ids=torch.from_numpy(track.astype(np.int64))[None])
            metric.process({}, [sample])
    online = metric.evaluate(len(dataset))
    assert all(online[f'step/VPQ@{w}'] > 0 for w in range(1, FRAMES + 1))
    assert online['step/STQ'] > 0.5

    out = tmp_path / 'offline.json'
    run(['tools/eval_vps.py', 'kitti-step', '--gt-root', root, '--split',
         'val', '--pred-dir', sub, '--out', out])
    offline = json.loads(out.read_text())
    for key in ('STQ', 'AQ', 'SQ', 'VPQ', 'VPQ_thing', 'VPQ_stuff'):
        assert online[f'step/{key}'] == pytest.approx(offline[key],
                                                      abs=1e-9), key
    for w in range(1, FRAMES + 1):
        assert online[f'step/VPQ@{w}'] == pytest.approx(
            offline['VPQ_per_window'][str(w)], abs=1e-9), w
