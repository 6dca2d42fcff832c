"""tools/analysis_tools/benchmark_eval.py runs end to end on a tiny set."""
import re

from ._tools import load_tool

bench = load_tool('analysis_tools/benchmark_eval.py')


def test_tiny_benchmark(tmp_path, capsys):
    assert bench.main(['--sequences', '2', '--frames', '3', '--size', '60',
                       '200', '--workers', '2', '--work-dir',
                       str(tmp_path)]) == 0
    out = capsys.readouterr().out
    ratio = re.search(r'ratio eval / decode: ([0-9.]+)', out)
    assert ratio and float(ratio.group(1)) > 0
    assert 'peak RSS' in out
    # the generated predictions are imperfect by construction
    stq = re.search(r'STQ\s+([0-9.]+)', out)
    assert stq and 0 < float(stq.group(1)) < 100
