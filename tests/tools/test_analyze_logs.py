"""tools/analysis_tools/analyze_logs.py on a synthetic MMEngine log."""
import json

import numpy as np
import pytest
from _data_helpers import one_line_error, run_tool

TOOL = 'tools/analysis_tools/analyze_logs.py'


def write_log(path, iters=40, val_every=20):
    """MMEngine vis_data/scalars.json: train lines and validation lines."""
    lines = []
    for it in range(1, iters + 1):
        lines.append(dict(lr=1e-4, loss=2.0 / it, loss_cls=1.0 / it,
                          time=0.5 if it % 10 == 1 else 0.2,
                          data_time=0.01, epoch=1 + (it - 1) // 20,
                          iter=it, memory=100, step=it))
        if it % val_every == 0:
            lines.append({'kitti_step/STQ': 0.3 * it / iters,
                          'kitti_step/AQ': 0.2, 'data_time': 0.01,
                          'time': 0.1, 'step': it // val_every})
    path.write_text('\n'.join(json.dumps(x) for x in lines) + '\n')
    return path


def test_plot_curve_writes_a_png(tmp_path):
    log = write_log(tmp_path / 'scalars.json')
    log2 = write_log(tmp_path / 'other.json', iters=20)
    out = tmp_path / 'plots' / 'curves.png'
    proc = run_tool(TOOL, 'plot_curve', log, log2, '--keys', 'loss', 'STQ',
                    '--out', out)
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    import cv2
    img = cv2.imread(str(out))
    assert img.shape[0] > 400 and img.shape[1] > 500  # two subplots
    assert (img < 250).any()  # something drawn
    assert list(out.parent.iterdir()) == [out]  # no temporary left


def test_series_read_by_split(tmp_path):
    import importlib.util
    from _data_helpers import REPO
    spec = importlib.util.spec_from_file_location('analyze_logs',
                                                  REPO / TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    log = mod.LogData(str(write_log(tmp_path / 's.json')))
    x, y, split, key = log.series('loss')
    assert split == 'train' and len(x) == 40 and y[3] == pytest.approx(0.5)
    x, y, split, key = log.series('STQ')
    # validation at the training iterations it followed (20 and 40)
    assert split == 'val' and key == 'kitti_step/STQ'
    assert x.tolist() == [20, 40] and np.allclose(y, [0.15, 0.3])


def test_cal_train_time(tmp_path):
    log = write_log(tmp_path / 's.json')
    proc = run_tool(TOOL, 'cal_train_time', log)
    assert proc.returncode == 0, proc.stderr
    # per epoch of 20 iterations, without the first: one 0.5 (iter 11/31)
    # and eighteen 0.2 -> (0.5 + 18 * 0.2) / 19
    expected = (0.5 + 18 * 0.2) / 19
    assert f'{expected:.4f} s/iter' in proc.stdout


def test_missing_key_and_file_are_one_line_errors(tmp_path):
    log = write_log(tmp_path / 's.json')
    err = one_line_error(run_tool(TOOL, 'plot_curve', log, '--keys', 'mAP',
                                  '--out', tmp_path / 'c.png'))
    assert 'mAP' in err and 'loss' in err
    err = one_line_error(run_tool(TOOL, 'plot_curve', tmp_path / 'no.json'))
    assert 'no.json' in err
    bad = tmp_path / 'bad.json'
    bad.write_text('{"loss": 1, "step": 1}\nnot json\n')
    assert 'bad.json:2' in one_line_error(run_tool(TOOL, 'plot_curve', bad))
