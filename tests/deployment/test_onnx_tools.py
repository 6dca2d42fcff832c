"""The tools with the ONNX Runtime backend: the video demo takes an
exported file in place of the checkpoint; ``benchmark.py --backend
onnxruntime`` times both backends on the same frames in one run."""
import json

import cv2
import numpy as np
import pytest

from knet.utils.cli import run_cli

from .conftest import ROOT, load_script


def _frames_dir(tmp_path, n=3, size=(48, 96)):
    rng = np.random.default_rng(0)
    folder = tmp_path / 'frames'
    folder.mkdir()
    for t in range(n):
        cv2.imwrite(str(folder / f'{t:06d}.png'),
                    rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    return folder


def test_video_demo_with_onnx_file(tiny_export, tmp_path):
    demo = load_script(ROOT / 'tools' / 'demo' / 'video_demo.py')
    frames = _frames_dir(tmp_path)
    preds = {}
    for name, weights in (('pytorch', tiny_export['checkpoint']),
                          ('onnx', tiny_export['onnx'])):
        out, pred = tmp_path / f'{name}_out', tmp_path / f'{name}_pred'
        demo.main([str(tiny_export['config']), str(weights), '--input',
                   str(frames), '--out', str(out), '--save-pred', str(pred)])
        files = sorted((pred / '0000').iterdir())
        assert len(files) == 3 and len(list(out.iterdir())) == 3
        preds[name] = [cv2.imread(str(f)) for f in files]
    for a, b in zip(preds['pytorch'], preds['onnx']):
        assert np.array_equal(a, b)


def test_benchmark_backend_onnxruntime(tiny_export, tmp_path, capsys):
    bench = load_script(ROOT / 'tools' / 'analysis_tools' / 'benchmark.py')
    out = tmp_path / 'bench.json'
    assert bench.main([
        str(tiny_export['config']), '--checkpoint',
        str(tiny_export['checkpoint']), '--backend', 'onnxruntime', '--onnx',
        str(tiny_export['onnx']), '--shape', '96', '160', '--frames', '2',
        '--warmup', '0', '--threads', '1', '--out', str(out)
    ]) == 0
    res = json.loads(out.read_text())
    for backend in ('pytorch', 'onnxruntime'):
        mean = res[backend]['mean_ms']
        assert mean['network'] > 0 and mean['total'] >= mean['network']
        assert len(res[backend]['per_frame_ms']) == 2
        assert res[backend]['peak_rss_mb'] > 0
        assert res[backend]['threads'] == 1
    assert res['ratio_total'] == pytest.approx(
        res['onnxruntime']['median_ms']['total'] /
        res['pytorch']['median_ms']['total'])
    assert res['ort_options']['threads'] == 1
    printed = capsys.readouterr().out
    assert 'ORT / eager' in printed and 'peak RSS' in printed
    # an exported file of other weights is refused (random weights here)
    assert run_cli(bench.main, [
        str(tiny_export['config']), '--backend', 'onnxruntime', '--onnx',
        str(tiny_export['onnx']), '--shape', '96', '160', '--frames', '1',
        '--seed', '5'
    ]) == 1
    err = capsys.readouterr().err
    assert 'holds other weights' in err and err.count('\n') == 1
