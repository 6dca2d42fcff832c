"""AtomicLoggerHook: the test-metrics JSON is written by the main process
only, through a rename (no partial or interleaved file)."""
import json
from types import SimpleNamespace

import pytest

pytest.importorskip('mmdet')

import knet.engine.logger_hook as mod  # noqa: E402


class _Processor:

    def get_log_after_epoch(self, runner, n, mode, with_non_scalar=False):
        return {'step/STQ': 0.5, 'time': 0.1}, 'Iter(test) step/STQ: 0.5'


def _runner(tmp_path):
    logged = []
    return SimpleNamespace(
        log_processor=_Processor(), test_dataloader=[0, 1],
        logger=SimpleNamespace(info=logged.append), log_dir=str(tmp_path),
        logged=logged)


def test_main_process_writes_valid_json_atomically(tmp_path, monkeypatch):
    hook = mod.AtomicLoggerHook()
    hook.json_log_path = 'run.json'
    runner = _runner(tmp_path)
    (tmp_path / 'run.json').write_text('{"old": 1, "longer": "content"}}}')
    monkeypatch.setattr(mod, 'is_main_process', lambda: True)
    hook.after_test_epoch(runner)
    assert json.loads((tmp_path / 'run.json').read_text()) == {
        'step/STQ': 0.5, 'time': 0.1}
    assert runner.logged == ['Iter(test) step/STQ: 0.5']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['run.json']


def test_other_ranks_only_log(tmp_path, monkeypatch):
    hook = mod.AtomicLoggerHook()
    hook.json_log_path = 'run.json'
    runner = _runner(tmp_path)
    monkeypatch.setattr(mod, 'is_main_process', lambda: False)
    hook.after_test_epoch(runner)
    assert runner.logged and not list(tmp_path.iterdir())
