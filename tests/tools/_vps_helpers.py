"""Shared, memoised steps of the Video K-Net end-to-end tests (not a test
module): synthetic KITTI-STEP raw data -> scripts/kitti_step_prepare.py ->
tools/train.py -> tools/test.py, each run once per pytest session and reused
by tests/tools/test_vps_e2e.py and tests/tools/test_dist_vps.py."""
import glob
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
CONFIG = 'tests/data/video_knet_kitti_e2e.py'
H, W = 64, 128
#: 7 training sequences: train split 0, 1, 3, 4, 5; val split 2, 6 (one
#: whole sequence per rank with two processes); plus one test sequence.
VIDEOS, FRAMES, TEST_VIDEOS = 7, 4, 1
VAL_SEQS = (2, 6)

_cache: Dict[str, object] = {}


def run(args: List, env: Optional[dict] = None, timeout: int = 600,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run a repository command (python script or shell script) from the
    repository root with one thread per process."""
    full_env = dict(os.environ)
    full_env.pop('KNET_DEBUG', None)
    full_env['PYTHONPATH'] = str(REPO) + os.pathsep + full_env.get(
        'PYTHONPATH', '')
    full_env['OMP_NUM_THREADS'] = '1'
    if env:
        full_env.update(env)
    args = [str(a) for a in args]
    cmd = [sys.executable] + args if args[0].endswith('.py') else args
    proc = subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, (
            f'{" ".join(args[:3])} failed ({proc.returncode}):\n'
            f'{(proc.stdout + proc.stderr)[-4000:]}')
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def data_options(root: str, split: str = 'val') -> List[str]:
    """--cfg-options pointing the e2e config at a prepared root."""
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_prefix.img_path='
        f'video_sequence/{split}',
    ]


def read_metrics(work_dir) -> dict:
    """The metrics tools/test.py logged: ``<work_dir>/<stamp>/<stamp>.json``
    (last line)."""
    logs = sorted(glob.glob(str(Path(work_dir) / '*' / '*.json')))
    assert logs, f'no json log under {work_dir}'
    with open(logs[-1]) as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    return json.loads(lines[-1])


def prepared_root(base: Path) -> str:
    """Synthetic raw KITTI-STEP under ``base/raw``, prepared under
    ``base/kitti-step``; returns the prepared root (with a trailing /)."""
    if 'root' not in _cache:
        from knet.datasets.synthetic import make_synthetic
        raw = base / 'raw'
        manifest = make_synthetic('kitti-step', raw, videos=VIDEOS,
                                  frames=FRAMES, size=(H, W), seed=0,
                                  test_videos=TEST_VIDEOS)
        assert sorted(manifest['splits']['val']) == [
            f'{s:04d}' for s in VAL_SEQS]
        dst = base / 'kitti-step'
        run(['scripts/kitti_step_prepare.py', '--src', raw, '--dst', dst])
        _cache['root'] = str(dst) + '/'
    return _cache['root']


def trained_checkpoint(base: Path) -> Path:
    """tools/train.py (one process) on the train split; the checkpoint."""
    if 'ckpt' not in _cache:
        root = prepared_root(base)
        work = base / 'train'
        proc = run(['tools/train.py', CONFIG, '--work-dir', work,
                    '--cfg-options'] + data_options(root))
        out = proc.stdout + proc.stderr
        assert 'Iter(train) [4/4]' in out, out[-3000:]
        _cache['ckpt'] = work / 'iter_4.pth'
        assert _cache['ckpt'].is_file()
    return _cache['ckpt']


def single_process_test(base: Path) -> dict:
    """tools/test.py (one process) on the val split with --submission-dir;
    returns dict(metrics=..., submission=Path, output=str)."""
    if 'test1' not in _cache:
        root = prepared_root(base)
        ckpt = trained_checkpoint(base)
        work, sub = base / 'test1', base / 'submission1'
        proc = run(['tools/test.py', CONFIG, ckpt, '--work-dir', work,
                    '--submission-dir', sub, '--cfg-options'] +
                   data_options(root))
        _cache['test1'] = dict(metrics=read_metrics(work), submission=sub,
                               output=proc.stdout + proc.stderr)
    return _cache['test1']
