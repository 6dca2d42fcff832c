"""Mixed precision (``--amp``) chosen from the device.

Training uses MMEngine's ``AmpOptimWrapper`` on CUDA: bfloat16 autocast
where the GPU supports it (no loss scaling needed: bfloat16 has float32's
exponent range), float16 with dynamic loss scaling otherwise. MMEngine's
wrapper refuses to run without an accelerator, so on the CPU
:class:`CpuAmpOptimWrapper` gives the same training step with bfloat16
autocast (the only dtype CPU autocast supports) and no loss scaling.

Inference runs the model under autocast with the same dtype
(:func:`amp_autocast`; in a runner, :class:`AmpTestLoop`, which
``tools/test.py --amp`` selects); the model keeps its losses, assignment
costs and panoptic merge in float32 (:mod:`knet.models.layers.precision`).
"""
from contextlib import contextmanager
from typing import Iterator, Union

import torch
from mmengine.device import get_device
from mmengine.optim import OptimWrapper
from mmengine.runner import TestLoop
from mmengine.runner.amp import autocast

from mmdet.registry import LOOPS, OPTIM_WRAPPERS

__all__ = ['amp_dtype', 'amp_optim_wrapper_cfg', 'amp_autocast',
           'amp_test_cfg', 'CpuAmpOptimWrapper', 'AmpTestLoop']

DeviceLike = Union[str, torch.device]


def amp_dtype(device: DeviceLike) -> torch.dtype:
    """bfloat16 on the CPU and on GPUs that support it, else float16."""
    device = torch.device(device)
    if device.type == 'cuda' and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def amp_optim_wrapper_cfg(optim_wrapper: dict, device: DeviceLike) -> dict:
    """The ``optim_wrapper`` config with mixed precision for ``device``.

    ``OptimWrapper`` becomes ``AmpOptimWrapper`` (CUDA; float16 with dynamic
    loss scaling, or bfloat16 without) or :class:`CpuAmpOptimWrapper`
    (CPU, bfloat16). A config that already asks for AMP is returned as is;
    any other wrapper type is an error (AMP would silently not apply).
    """
    cfg = dict(optim_wrapper)
    kind = cfg.get('type', 'OptimWrapper')
    if kind in ('AmpOptimWrapper', 'CpuAmpOptimWrapper'):
        return cfg
    if kind != 'OptimWrapper':
        raise ValueError(f'--amp supports optim_wrapper type OptimWrapper, '
                         f'not {kind}')
    device = torch.device(device)
    dtype = amp_dtype(device)
    if device.type == 'cpu':
        cfg['type'] = 'CpuAmpOptimWrapper'
        return cfg
    if device.type != 'cuda':
        raise ValueError(f'--amp: no mixed precision for device {device}')
    cfg['type'] = 'AmpOptimWrapper'
    if dtype == torch.bfloat16:
        cfg['dtype'] = 'bfloat16'
        # no loss scaling: it would only add a host sync per step
        cfg['loss_scale'] = dict(enabled=False)
    else:
        cfg['dtype'] = 'float16'
        cfg['loss_scale'] = 'dynamic'
    return cfg


@contextmanager
def amp_autocast(device: DeviceLike, enabled: bool = True) -> Iterator[None]:
    """Autocast on ``device`` with :func:`amp_dtype` (nothing if not
    ``enabled``)."""
    device = torch.device(device)
    if not enabled:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=amp_dtype(device)):
        yield


@OPTIM_WRAPPERS.register_module()
class CpuAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under CPU bfloat16 autocast.

    The CPU counterpart of MMEngine's ``AmpOptimWrapper`` (which asserts a
    GPU): bfloat16 keeps float32's exponent range, so gradients need no loss
    scaling and backward / step are the plain ones.
    """

    @contextmanager
    def optim_context(self, model: torch.nn.Module) -> Iterator[None]:
        with super().optim_context(model), autocast(
                device_type='cpu', dtype=torch.bfloat16):
            yield


@LOOPS.register_module()
class AmpTestLoop(TestLoop):
    """``TestLoop`` whose model runs under autocast with :func:`amp_dtype`
    (MMEngine's ``fp16=True`` always takes float16 on a GPU)."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = True):
        super().__init__(runner, dataloader, evaluator, fp16=True)

    def run_iter(self, idx, data_batch) -> None:
        # TestLoop's own autocast(enabled=True) inherits this dtype
        with amp_autocast(get_device()):
            super().run_iter(idx, data_batch)


def amp_test_cfg(test_cfg: dict) -> dict:
    """The ``test_cfg`` (loop) with :class:`AmpTestLoop`."""
    cfg = dict(test_cfg or {})
    kind = cfg.get('type', 'TestLoop')
    if kind not in ('TestLoop', 'AmpTestLoop'):
        raise ValueError(f'--amp supports test_cfg type TestLoop, not {kind}')
    cfg['type'] = 'AmpTestLoop'
    cfg.pop('fp16', None)
    return cfg
