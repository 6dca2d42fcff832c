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
    parts_keys = ('preprocess', 'backbone_fpn', 'semantic_fpn',
                  'kernel_head', 'stage0', 'stage1', 'stage2',
                  'panoptic_merge', 'postprocess')
    for key in parts_keys + ('total', 'rest'):
        assert key in mean and mean[key] >= 0, key
    assert len(res['per_frame_ms']) == 2
    parts = sum(mean[k] for k in parts_keys)
    assert abs(parts - mean['total']) < 1e-3 * max(1.0, mean['total']) + 1e-6
    # rest = everything after backbone + FPN; ratio and fps derived from it
    rest = mean['total'] - mean['preprocess'] - mean['backbone_fpn']
    assert mean['rest'] == pytest.approx(rest, rel=1e-6, abs=1e-9)
    assert mean['ratio'] == pytest.approx(rest / mean['backbone_fpn'])
    assert mean['fps'] == pytest.approx(1e3 / mean['total'])
    assert res['peak_rss_mb'] > 0
    printed = capsys.readouterr().out
    assert 'stage2' in printed and 'ratio' in printed


def test_benchmark_bad_input(tmp_path, capsys):
    from knet.utils.cli import run_cli
    assert run_cli(main, [str(tmp_path / 'nope.py'), '--shape', '8',
                          '8']) == 1
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


def test_benchmark_repeat_gives_medians(tmp_path):
    cfg = _write_cfg(tmp_path)
    out = tmp_path / 'bench.json'
    assert main([str(cfg), '--shape', '32', '64', '--frames', '2',
                 '--repeat', '3', '--warmup', '0', '--threads', '1',
                 '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    assert res['threads'] == 1 and len(res['per_pass_ms']) == 3
    assert len(res['per_frame_ms']) == 6
    for key in ('total', 'backbone_fpn', 'rest', 'ratio', 'fps'):
        passes = sorted(p[key] for p in res['per_pass_ms'])
        assert res['median_ms'][key] == pytest.approx(passes[1]), key
    for key in ('total', 'backbone_fpn', 'rest'):
        # each pass value is the mean of its two frames
        frames = [f[key] for f in res['per_frame_ms'][:2]]
        assert res['per_pass_ms'][0][key] == pytest.approx(sum(frames) / 2)
    first = res['per_pass_ms'][0]
    assert first['ratio'] == pytest.approx(first['rest'] /
                                           first['backbone_fpn'])


def test_benchmark_data_mode(tmp_path, capsys):
    """--data iterates the config's test dataloader (here: synthetic
    KITTI-STEP in the real layout, 0 workers to stay light)."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    cfg = root / 'configs' / 'video_knet_kitti.py'
    raw, data = tmp_path / 'raw', tmp_path / 'kitti-step'
    subprocess.run([sys.executable, 'tools/dataset/make_synthetic.py',
                    'kitti-step', '--out', str(raw), '--videos', '3',
                    '--frames', '4', '--size', '32', '64'], cwd=root,
                   check=True, capture_output=True)
    subprocess.run([sys.executable, 'scripts/kitti_step_prepare.py', '--src',
                    str(raw), '--dst', str(data)], cwd=root, check=True,
                   capture_output=True)
    out = tmp_path / 'data.json'
    assert main([str(cfg), '--data', '--workers', '0', '--frames', '3',
                 '--cfg-options',
                 f'test_dataloader.dataset.data_root={data}/',
                 'test_dataloader.persistent_workers=False',
                 '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    assert res['frames'] == 3 and res['data_fps'] > 0
    assert 'frames/s' in capsys.readouterr().out


def test_benchmark_flops_match_direct_count(tmp_path):
    """--flops: per-component GFLOPs equal counting the modules directly."""
    import torch
    from mmengine.config import Config
    from torch.utils.flop_counter import FlopCounterMode

    from knet.utils.setup_env import register_all_modules
    from mmdet.registry import MODELS
    cfg = _write_cfg(tmp_path)
    out = tmp_path / 'bench.json'
    assert main([str(cfg), '--shape', '64', '96', '--frames', '1',
                 '--warmup', '0', '--flops', '--out', str(out)]) == 0
    gf = json.loads(out.read_text())['gflops']

    register_all_modules(init_default_scope=True)
    model = MODELS.build(Config.fromfile(str(cfg)).model).eval()
    x = torch.zeros(1, 3, 64, 96)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        feats = model.neck[0](model.backbone(x))
    with torch.no_grad(), FlopCounterMode(display=False) as fc2:
        model.neck[1](feats)
    assert gf['backbone_fpn'] == pytest.approx(fc.get_total_flops() / 1e9)
    assert gf['semantic_fpn'] == pytest.approx(fc2.get_total_flops() / 1e9)
    assert gf['semantic_fpn'] > 0 and gf['stage0'] > 0
    assert gf['rest'] == pytest.approx(gf['total'] - gf['backbone_fpn'])
    assert gf['flop_ratio'] == pytest.approx(gf['rest'] / gf['backbone_fpn'])
