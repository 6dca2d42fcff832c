"""tools/quickstart.py (`make demo`): a reduced run produces every output."""
import json

import cv2
import pytest
from _data_helpers import REPO, one_line_error, run_tool

TOOL = 'tools/quickstart.py'
CONFIG = REPO / 'configs' / 'quickstart' / 'video_knet_quickstart.py'


def test_missing_piece_is_one_clear_line(tmp_path):
    err = one_line_error(run_tool(
        TOOL, '--config', tmp_path / 'nope.py', '--data-root',
        tmp_path / 'data', '--work-dir', tmp_path / 'work'))
    assert 'config' in err and 'nope.py' in err and 'no such file' in err
    assert not (tmp_path / 'data').exists()


def test_foreign_data_root_is_not_touched(tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    (root / 'mine.txt').write_text('user data')
    err = one_line_error(run_tool(TOOL, '--data-root', root, '--work-dir',
                                  tmp_path / 'work', '--iters', '1'))
    assert str(root) in err
    assert (root / 'mine.txt').read_text() == 'user data'


def _count(path):
    cap = cv2.VideoCapture(str(path))
    n, shape = 0, None
    while True:
        ok, f = cap.read()
        if not ok:
            break
        n, shape = n + 1, f.shape
    return n, shape


def test_reduced_quickstart_writes_all_outputs(tmp_path):
    proc = run_tool(TOOL, '--data-root', tmp_path / 'data', '--work-dir',
                    tmp_path / 'work', '--iters', '2', '--videos', '3',
                    '--frames', '3', '--size', '64', '128', '--threads', '1')
    if proc.returncode != 0 and 'quickstart needs' in proc.stderr:
        pytest.skip(proc.stderr.strip())  # the model has not landed yet
    assert proc.returncode == 0, proc.stderr[-3000:]
    work = tmp_path / 'work'
    metrics = json.loads((work / 'metrics.json').read_text())
    for key in ('STQ', 'AQ', 'SQ', 'VPQ'):
        assert metrics[key] is not None and 0.0 <= metrics[key] <= 100.0
    assert (work / 'iter_2.pth').is_file()
    # val = sequence 2 of the official split: 3 frames, GT | prediction
    n, shape = _count(work / 'gt_vs_pred.mp4')
    assert n == 3 and shape[1] > 2 * 128 and shape[0] > 64
    assert shape[1] > 2 * shape[0]  # two 64 x 128 panels side by side
    from knet.visualization.video_io import read_video_info
    assert read_video_info(str(work / 'gt_vs_pred.mp4'))['codec'] == 'h264'
    # the data recipe is the config's, with the command line's sizes
    from mmengine.config import Config
    recipe = Config.fromfile(str(CONFIG)).synthetic_data.to_dict()
    recipe.pop('dataset')
    recipe.update(videos=3, frames=3, size=[64, 128],
                  stuff_classes=sorted(recipe['stuff_classes']))
    assert metrics['data'] == recipe
    from PIL import Image
    with Image.open(work / 'gt_vs_pred.gif') as im:
        assert im.n_frames == 3
    assert cv2.imread(str(work / 'curves.png')) is not None
    for word in ('STQ', 'checkpoint', 'curves.png', 'gt_vs_pred.mp4'):
        assert word in proc.stdout
    # a second run reuses the data (the stamp matches)
    assert (tmp_path / 'data' / 'quickstart.json').is_file()


def test_misspelt_data_setting_is_one_clear_line(tmp_path):
    cfg = tmp_path / 'typo.py'
    cfg.write_text(f"_base_ = ['{CONFIG}']\n"
                   "synthetic_data = dict(thing_outlines=1)\n")
    err = one_line_error(run_tool(TOOL, '--config', cfg, '--data-root',
                                  tmp_path / 'data', '--work-dir',
                                  tmp_path / 'work'))
    assert 'synthetic_data.thing_outlines' in err
    assert not (tmp_path / 'data').exists()
