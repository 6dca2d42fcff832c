"""tools/analysis_tools/vis_memory_benchmark.py (peak RSS of windowed VIS
inference)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from tests.models.test_vis_helpers import ROOT, tiny_vis_model

pytest.importorskip('mmdet')

TOOL = osp.join(ROOT, 'tools/analysis_tools/vis_memory_benchmark.py')
BASE = osp.join(ROOT, 'configs/video_knet_vis/'
                'video_knet_vis_r50_1x_youtube-vis-2019.py')


def _tiny_config(tmp_path):
    path = tmp_path / 'tiny_vis.py'
    path.write_text(f'_base_ = [{BASE!r}]\n'
                    f'model = {tiny_vis_model(num_proposals=6)!r}\n')
    return str(path)


def _tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('vis_memory_benchmark',
                                                  TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_missing_config_is_one_line_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, TOOL, '--config', str(tmp_path / 'nope.py')],
        capture_output=True, text=True)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and 'nope.py' in lines[0]


def test_bad_overlap_is_rejected():
    from knet.utils.cli import UsageError
    with pytest.raises(UsageError, match='--overlap'):
        _tool().parse_args(['--window', '4', '--overlap', '4'])


def test_measure_runs_the_test_step(tmp_path):
    tool = _tool()
    root = tmp_path / 'video'
    tool.make_video(root, 5, (32, 48))
    fig = tool.measure(_tiny_config(tmp_path), str(root), 2, 1, 1, (32, 48))
    assert fig['frames'] == 5 and fig['window'] == 2
    assert fig['peak_rss_mb'] >= fig['rss_before_mb'] > 0


@pytest.mark.slow
def test_cli_end_to_end(tmp_path):
    out = tmp_path / 'mem.json'
    proc = subprocess.run(
        [sys.executable, TOOL, '--config', _tiny_config(tmp_path), '--long',
         '8', '--short', '2', '--window', '2', '--overlap', '1', '--size',
         '32', '48', '--max-ratio', '100', '--out', str(out)],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    runs = report['runs']
    assert runs['long_windowed']['frames'] == 8
    assert runs['short_clip']['frames'] == 2
    assert report['ratio_long_windowed_to_short'] == pytest.approx(
        runs['long_windowed']['peak_rss_mb'] /
        runs['short_clip']['peak_rss_mb'], abs=1e-3)
