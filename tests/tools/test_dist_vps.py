"""Video K-Net with two CPU processes (gloo) on synthetic KITTI-STEP
(issue 6 / issue 2 acceptance): tools/dist_train.sh CONFIG 2 trains, and
tools/dist_test.sh CONFIG CKPT 2 (mmdet's TrackImgSampler: one whole val
sequence per rank) gives exactly the one-process predictions and metrics."""
import pytest
import torch

pytest.importorskip('mmdet')

try:
    from tests.tools._vps_helpers import (CONFIG, data_options, free_port,
                                          prepared_root, read_metrics, run,
                                          single_process_test,
                                          trained_checkpoint)
except ImportError:  # tests/tools on sys.path only
    from _vps_helpers import (CONFIG, data_options, free_port,  # noqa
                              prepared_root, read_metrics, run,
                              single_process_test, trained_checkpoint)


@pytest.fixture(scope='module')
def base(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / 'vps_e2e'
    path.mkdir(exist_ok=True)
    return path


def test_dist_train_two_processes(base):
    root = prepared_root(base)
    work = base / 'dist_train'
    proc = run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir',
                work, '--cfg-options'] + data_options(root) +
               ['train_cfg.max_iters=2',
                'default_hooks.checkpoint.interval=2'],
               env={'PORT': str(free_port())})
    out = proc.stdout + proc.stderr
    assert "'backend': 'gloo'" in out
    assert 'Distributed training: True' in out
    assert 'Iter(train) [2/2]' in out
    from knet.models.utils.checkpoint_compat import \
        register_checkpoint_safe_globals
    register_checkpoint_safe_globals()
    ckpt = torch.load(work / 'iter_2.pth', map_location='cpu')
    assert ckpt['meta']['iter'] == 2
    keys = ckpt['state_dict']
    assert 'track_head.fc_embed.weight' in keys
    assert not any(k.startswith('module.') for k in keys)


def test_dist_test_equals_single_process(base):
    root = prepared_root(base)
    ckpt = trained_checkpoint(base)
    one = single_process_test(base)
    work, sub = base / 'dist_test', base / 'submission2'
    proc = run(['bash', 'tools/dist_test.sh', CONFIG, ckpt, '2',
                '--work-dir', work, '--submission-dir', sub,
                '--cfg-options'] + data_options(root),
               env={'PORT': str(free_port())})
    out = proc.stdout + proc.stderr
    assert 'Distributed launcher: pytorch' in out or \
        'Distributed training: True' in out, out[-2000:]
    # one 4-frame sequence per rank: each logs 4 test iterations
    assert 'Iter(test) [4/4]' in out and 'Iter(test) [8/8]' not in out
    two = read_metrics(work)
    metrics = {k: v for k, v in one['metrics'].items()
               if k.startswith('step/')}
    assert metrics and 'step/STQ' in metrics and 'step/VPQ' in metrics
    assert {k: two[k] for k in metrics} == metrics
    # the same predictions, frame by frame (tracker state per sequence)
    names = sorted(p.relative_to(one['submission'])
                   for p in one['submission'].rglob('*.png'))
    assert names and names == sorted(p.relative_to(sub)
                                     for p in sub.rglob('*.png'))
    for name in names:
        assert (sub / name).read_bytes() == \
            (one['submission'] / name).read_bytes(), name
