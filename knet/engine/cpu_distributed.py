"""Multi-process training and testing on CPU-only machines (gloo).

MMEngine 0.10.7 assumes CUDA in two places of a distributed run: its
``init_dist`` calls ``torch.cuda.set_device`` and its runner gives
``DistributedDataParallel`` ``device_ids=[LOCAL_RANK]``; both fail when the
model lives on the CPU. ``init_cpu_process_group`` starts the gloo process
group before the runner does (the runner then skips its own ``init_dist``),
and :class:`DeviceAwareDistributedDataParallel` drops ``device_ids`` for CPU
modules. With CUDA both are no-ops, so configs need not change.
"""
import os

import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS

__all__ = ['DeviceAwareDistributedDataParallel', 'init_cpu_process_group',
           'use_device_aware_ddp']


@MODEL_WRAPPERS.register_module()
class DeviceAwareDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also wraps CPU modules."""

    def __init__(self, module, device_ids=None, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu:
            device_ids = None
            kwargs.pop('output_device', None)
        super().__init__(module=module, device_ids=device_ids, **kwargs)


def init_cpu_process_group(launcher: str, backend: str = 'gloo') -> bool:
    """Start a gloo process group for ``launcher='pytorch'`` without CUDA.

    Returns True when it started one. Slurm/MPI launchers are left to
    MMEngine (they are GPU cluster launchers).
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return False
    if dist.is_available() and dist.is_initialized():
        return False
    os.environ.setdefault('LOCAL_RANK', '0')
    dist.init_process_group(backend=backend)
    return True


def use_device_aware_ddp(cfg) -> None:
    """Make the runner wrap the model with the device-aware DDP."""
    wrapper = cfg.get('model_wrapper_cfg') or {}
    if wrapper.get('type', 'MMDistributedDataParallel') in (
            'MMDistributedDataParallel', None):
        wrapper = dict(wrapper)
        wrapper['type'] = 'DeviceAwareDistributedDataParallel'
        wrapper.setdefault('broadcast_buffers', False)
        wrapper.setdefault('find_unused_parameters',
                           cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper
