"""Mixed precision: the wrapper / loop choice per device, CPU bfloat16."""
import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402

from knet.engine import amp  # noqa: E402
from knet.engine.runner_setup import prepare_test_cfg  # noqa: E402
from knet.engine.runner_setup import prepare_train_cfg  # noqa: E402
from knet.utils.cli import UserError  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

BASE = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3),
            clip_grad=dict(max_norm=1, norm_type=2))


def test_optim_wrapper_per_device(monkeypatch):
    cpu = amp.amp_optim_wrapper_cfg(BASE, 'cpu')
    assert cpu['type'] == 'CpuAmpOptimWrapper'
    assert cpu['clip_grad'] == BASE['clip_grad'] and BASE['type'] == \
        'OptimWrapper'  # the input is not modified
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: True)
    bf16 = amp.amp_optim_wrapper_cfg(BASE, 'cuda')
    assert bf16['type'] == 'AmpOptimWrapper' and bf16['dtype'] == \
        'bfloat16' and bf16['loss_scale'] == dict(enabled=False)
    monkeypatch.setattr(torch.cuda, 'is_bf16_supported', lambda: False)
    fp16 = amp.amp_optim_wrapper_cfg(BASE, 'cuda:0')
    assert fp16['dtype'] == 'float16' and fp16['loss_scale'] == 'dynamic'
    assert amp.amp_dtype('cuda') == torch.float16
    assert amp.amp_dtype('cpu') == torch.bfloat16
    with pytest.raises(ValueError, match='OptimWrapper'):
        amp.amp_optim_wrapper_cfg(dict(BASE, type='Other'), 'cpu')
    done = dict(BASE, type='AmpOptimWrapper', dtype='float16')
    assert amp.amp_optim_wrapper_cfg(done, 'cpu') == done


def test_cpu_wrapper_runs_forward_in_bf16_and_steps():
    register_all_modules(init_default_scope=True)
    from mmengine.optim import build_optim_wrapper
    net = torch.nn.Linear(4, 2)
    wrapper = build_optim_wrapper(net, amp.amp_optim_wrapper_cfg(BASE, 'cpu'))
    assert type(wrapper).__name__ == 'CpuAmpOptimWrapper'
    before = net.weight.detach().clone()
    with wrapper.optim_context(net):
        out = net(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())
    assert not torch.equal(before, net.weight)
    assert net.weight.dtype == torch.float32


def test_amp_test_loop_runs_the_model_under_amp_dtype(monkeypatch):
    monkeypatch.setattr(amp, 'get_device', lambda: 'cpu')
    seen = []

    class Model:
        def test_step(self, batch):
            seen.append((torch.is_autocast_cpu_enabled(),
                         torch.get_autocast_cpu_dtype()))
            from mmdet.structures import DetDataSample
            return [DetDataSample()]

    class Runner:
        model = Model()

        def call_hook(self, *args, **kwargs):
            pass

    class Evaluator:
        def process(self, **kwargs):
            pass

    loop = amp.AmpTestLoop.__new__(amp.AmpTestLoop)
    loop._runner, loop.fp16, loop.evaluator = Runner(), True, Evaluator()
    loop.test_loss = {}
    loop.run_iter(0, {})
    assert seen == [(True, torch.bfloat16)]


def test_tool_config_preparation(tmp_path):
    cfg = Config(dict(optim_wrapper=dict(BASE), test_cfg=dict(
        type='TestLoop')))
    prepare_train_cfg(cfg, 'none', str(tmp_path), 'x.py', amp=True)
    want = 'CpuAmpOptimWrapper' if not torch.cuda.is_available() else \
        'AmpOptimWrapper'
    assert cfg.optim_wrapper.type == want
    ckpt = tmp_path / 'c.pth'
    ckpt.write_bytes(b'')
    prepare_test_cfg(cfg, 'none', str(tmp_path), 'x.py', str(ckpt), amp=True)
    assert cfg.test_cfg.type == 'AmpTestLoop'
    bad = Config(dict(test_cfg=dict(type='ValLoop')))
    with pytest.raises(UserError, match='TestLoop'):
        prepare_test_cfg(bad, 'none', str(tmp_path), 'x.py', str(ckpt),
                         amp=True)


def test_train_tool_amp_on_cpu(tmp_path):
    from tests.tools.conftest import run_tool
    proc = run_tool(['tools/train.py', 'tests/data/toy_config.py', '--amp',
                 '--work-dir', tmp_path, '--cfg-options',
                 'train_cfg.max_iters=3'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert 'Iter(train) [3/3]' in log
    if not torch.cuda.is_available():
        assert 'CpuAmpOptimWrapper' in log
