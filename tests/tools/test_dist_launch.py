"""tools/dist_train.sh runs several processes on gloo without CUDA."""
import socket

import torch


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_two_cpu_processes(tool, tmp_path):
    # with SyncBN, which torch's DDP refuses in CPU modules: KNetRunner
    # turns it into BN before wrapping
    proc = tool(['bash', 'tools/dist_train.sh', 'tests/data/toy_config.py',
                 '2', '--work-dir', tmp_path, '--cfg-options',
                 'model.sync_bn=True'],
                env={'PORT': str(_free_port())})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "'backend': 'gloo'" in out
    assert 'Distributed training: True' in out
    assert 'SyncBN is configured but no GPU' in out
    assert 'Iter(train) [6/6]' in out
    from knet.models.utils.checkpoint_compat import \
        register_checkpoint_safe_globals
    register_checkpoint_safe_globals()
    ckpt = torch.load(tmp_path / 'iter_6.pth', map_location='cpu')
    assert ckpt['meta']['iter'] == 6
    # DDP keeps the two replicas identical, and the saved keys carry no
    # 'module.' prefix.
    assert all(not k.startswith('module.') for k in ckpt['state_dict'])
