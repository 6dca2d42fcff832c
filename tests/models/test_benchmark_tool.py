"""tools/analysis_tools/benchmark.py on a tiny K-Net config."""
import copy
import json

import pytest

pytest.importorskip('mmdet')

from tools.analysis_tools.benchmark import main  # noqa: E402

from .parity.tiny_knet import TINY_KNET  # noqa: E402


def _write_cfg(tmp_path):
    model = copy.deepcopy(TINY_KNET)
    model['data_preprocessor'] = dict(
        type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_size_divisor=32)
    path = tmp_path / 'tiny_knet.py'
    path.write_text(f"default_scope = 'mmdet'\nmodel = {model!r}\n")
    return path


def test_benchmark_cli(tmp_path, capsys):
    cfg = _write_cfg(tmp_path)
    out = tmp_path / 'bench.json'
    assert main([str(cfg), '--shape', '64', '96', '--frames', '2',
                 '--warmup', '0', '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    mean = res['mean_ms']
    for key in ('preprocess', 'backbone_fpn', 'semantic_fpn', 'kernel_head',
                'stage0', 'stage1', 'stage2', 'postprocess', 'total'):
        assert key in mean and mean[key] >= 0, key
    assert len(res['per_frame_ms']) == 2
    parts = sum(v for k, v in mean.items() if k != 'total')
    assert abs(parts - mean['total']) < 1e-3 * max(1.0, mean['total']) + 1e-6
    assert res['peak_rss_mb'] > 0
    assert 'stage2' in capsys.readouterr().out


def test_benchmark_bad_input(tmp_path, capsys):
    assert main([str(tmp_path / 'nope.py'), '--shape', '8', '8']) == 1
    err = capsys.readouterr().err
    assert 'nope.py' in err and 'Traceback' not in err


def test_benchmark_video_model_reports_tracking(tmp_path):
    from pathlib import Path
    cfg = Path(__file__).resolve().parents[1] / 'data' / \
        'video_knet_kitti_tiny.py'
    if not cfg.is_file():
        pytest.skip('tiny Video K-Net config not available')
    out = tmp_path / 'bench.json'
    assert main([str(cfg), '--shape', '64', '128', '--frames', '2',
                 '--warmup', '0', '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    assert res['video_model']
    assert 'tracking' in res['mean_ms'] and 'stage2' in res['mean_ms']
