"""tools/train.py: checkpoints save, load and resume under torch >= 2.6."""
import pickle

import pytest
import torch

from knet.models.utils.checkpoint_compat import \
    register_checkpoint_safe_globals

TOY = 'tests/data/toy_config.py'


def _train(tool, work_dir, max_iters, resume=False):
    args = ['tools/train.py', TOY, '--work-dir', work_dir, '--cfg-options',
            f'train_cfg.max_iters={max_iters}']
    if resume:
        args.append('--resume')
    proc = tool(args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_resume_continues_from_saved_iteration(tool, tmp_path):
    register_checkpoint_safe_globals()
    straight = tmp_path / 'straight'
    _train(tool, straight, 6)

    interrupted = tmp_path / 'interrupted'
    _train(tool, interrupted, 3)
    saved = torch.load(interrupted / 'iter_3.pth', map_location='cpu')
    assert saved['meta']['iter'] == 3

    log = _train(tool, interrupted, 6, resume=True)
    assert 'resumed' in log.lower()
    assert 'Iter(train) [4/6]' in log
    assert 'Iter(train) [1/6]' not in log

    a = torch.load(straight / 'iter_6.pth', map_location='cpu')
    b = torch.load(interrupted / 'iter_6.pth', map_location='cpu')
    assert b['meta']['iter'] == 6
    # The resumed run restored weights, AdamW moments, step counts and the
    # LR schedule, so it ends exactly where the uninterrupted run ends.
    for k, v in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][k], v, rtol=0, atol=1e-6)
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys() and len(sa) > 0
    for p in sa:
        for name in ('exp_avg', 'exp_avg_sq', 'step'):
            torch.testing.assert_close(
                torch.as_tensor(sb[p][name]), torch.as_tensor(sa[p][name]),
                rtol=0, atol=1e-6)
    assert a['optimizer']['param_groups'][0]['lr'] == pytest.approx(
        b['optimizer']['param_groups'][0]['lr'])


def test_weights_only_load_still_refuses_unknown_classes(tmp_path):
    """The compatibility layer allows MMEngine's types, not arbitrary ones."""
    register_checkpoint_safe_globals()

    path = tmp_path / 'evil.pth'
    torch.save({'meta': {'obj': pickle.PickleError('x')}}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)


def test_train_bad_config_is_one_line_error(tool, tmp_path):
    proc = tool(['tools/train.py', tmp_path / 'missing.py'])
    assert proc.returncode == 1
    assert proc.stderr.strip().count('\n') == 0
    assert 'missing.py' in proc.stderr and 'Traceback' not in proc.stderr
