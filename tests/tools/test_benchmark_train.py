"""tools/analysis_tools/benchmark_train.py: phases, figures, errors."""
import json
from types import SimpleNamespace

import pytest

pytest.importorskip('mmdet')

from tools.analysis_tools import benchmark_train as bt  # noqa: E402

QUICK = 'configs/quickstart/video_knet_quickstart.py'
SMALL = ['--data-size', '64', '128', '--data-frames', '3', '--workers', '0',
         '--iters', '2', '--warmup', '1', '--threads', '1', '--no-progress']


def test_phase_timer_books_nested_time_exclusively():
    clock = iter(range(100))
    timer = bt.PhaseTimer(clock=lambda: next(clock))

    class Head:
        def loss(self):
            clock_tick()
            return self.assign()

        def assign(self):
            clock_tick()
            return 'ok'

    def clock_tick():
        next(clock)

    head = Head()
    assert timer.wrap(head, 'loss', 'losses')
    assert timer.wrap(head, 'assign', 'assign')
    assert not timer.wrap(head, 'missing', 'x')
    with timer.phase('forward'):
        next(clock)
        assert head.loss() == 'ok'
    times = timer.pop_times()
    # forward 0->2, losses 2->4, assign 4->6, losses 6->7, forward 7->8
    assert times == {'forward': 3, 'losses': 3, 'assign': 2}
    timer.restore()
    assert 'loss' not in vars(head) and head.assign() == 'ok'


def test_device_busy_is_the_union_of_device_intervals():
    from torch.autograd import DeviceType

    def ev(start, end, device=DeviceType.CUDA):
        return SimpleNamespace(device_type=device,
                               time_range=SimpleNamespace(start=start,
                                                          end=end))

    events = [ev(0, 10), ev(5, 12), ev(20, 25), ev(0, 100, DeviceType.CPU),
              ev(24, 30), ev(40, 40)]
    assert bt.device_busy_us(events) == 12 + 10
    assert bt.device_busy_us([]) == 0


def test_sync_count_collects_cuda_sync_warnings(monkeypatch):
    import warnings
    modes = []
    monkeypatch.setattr(bt.torch.cuda, 'synchronize', lambda dev: None)
    monkeypatch.setattr(bt.torch.cuda, 'set_sync_debug_mode', modes.append)

    def step(model, wrapper, batch, timer):
        for _ in range(3):
            warnings.warn('called a synchronizing CUDA operation')
        warnings.warn('something else')

    monkeypatch.setattr(bt, '_train_step', step)
    res = bt._count_syncs(None, None, iter([{}]), 'cuda')
    assert res['per_iter'] == 3 and res['top'][0][1] == 3
    assert modes == ['warn', 'default']


def test_cpu_run_reports_phases_and_figures(tmp_path, capsys):
    out = tmp_path / 'train.json'
    assert bt.main([QUICK, *SMALL, '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    assert res['device'] == 'cpu' and res['iters'] == 2
    assert res['batch_size'] == 2 and res['frames_per_sample'] == 2
    assert res['input_shapes'] and res['losses_finite']
    mean = res['split']['mean_s']
    for phase in bt.PHASES:
        assert mean[phase] >= 0, phase
    for phase in ('data', 'forward', 'targets', 'assign', 'losses',
                  'backward', 'optimizer'):
        assert mean[phase] > 0, phase
    # every instant of an iteration is booked to exactly one phase
    assert sum(mean[p] for p in bt.PHASES) == pytest.approx(mean['total'],
                                                            rel=1e-3)
    assert res['samples_per_s'] == pytest.approx(2 / mean['total'], rel=1e-6)
    assert res['peak_memory_mb'] > 0 and 'gpu_busy' not in res
    printed = capsys.readouterr().out
    assert 'backward' in printed and 'samples/s' in printed


def test_amp_run_on_cpu_trains_in_bf16(tmp_path):
    out = tmp_path / 'amp.json'
    assert bt.main([QUICK, *SMALL, '--amp', '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    assert res['amp'] and res['amp_dtype'] == 'bfloat16'
    assert res['losses_finite'] and res['last_losses']['loss'] > 0


@pytest.mark.parametrize('args,message,rc', [
    (['nope.py'], 'config nope.py: no such file', 1),
    ([QUICK, '--iters', '0'], 'argument --iters: must be in [1, ', 2),
    (['configs/video_knet_vis/video_knet_vis_r50_1x_youtube-vis-2019.py'],
     'no synthetic training data', 1),
])
def test_bad_input_is_one_line(tool, args, message, rc):
    proc = tool(['tools/analysis_tools/benchmark_train.py', *args,
                 '--no-progress'])
    assert proc.returncode == rc
    assert message in proc.stderr and 'Traceback' not in proc.stderr


def test_help(tool):
    proc = tool(['tools/analysis_tools/benchmark_train.py', '--help'])
    assert proc.returncode == 0 and '--amp' in proc.stdout
