"""SyncBN in configs, plain BN when the run is not distributed.

The release trains with SyncBN on 8 GPUs. SyncBN cannot run in a single
process or on CPU tensors (PyTorch raises in training mode), so configs keep
``SyncBN`` and the model is converted to BN with a warning when no
multi-process group exists or no GPU is available:
either by the model itself at construction (:func:`sync_bn_fallback`, called
by ``VideoKNet``) or by :class:`SyncBNFallbackHook` for any other model.
The conversion keeps the parameter and buffer tensors, so an optimizer built
before it still points at the right parameters.
"""
import warnings

import torch
import torch.distributed as dist
from mmengine.hooks import Hook
from mmengine.model import revert_sync_batchnorm
from torch import nn

from mmdet.registry import HOOKS

__all__ = ['sync_bn_fallback', 'has_sync_bn', 'SyncBNFallbackHook']


def _sync_possible() -> bool:
    """SyncBN needs several processes and GPUs (it raises on CPU tensors in
    training mode, e.g. in a gloo CPU run)."""
    return (dist.is_available() and dist.is_initialized()
            and dist.get_world_size() > 1 and torch.cuda.is_available())


def has_sync_bn(module: nn.Module) -> bool:
    """True if any sub-module is a (torch or mmcv) SyncBatchNorm."""
    return any('SyncBatchNorm' in type(m).__name__ or type(m).__name__ ==
               'SyncBN' for m in module.modules())


def sync_bn_fallback(module: nn.Module) -> nn.Module:
    """Return ``module`` with SyncBN layers turned into BN when the process is
    not part of a multi-process group or has no GPU (warns); unchanged
    otherwise. Children are replaced in place; the root is returned."""
    if _sync_possible() or not has_sync_bn(module):
        return module
    warnings.warn('SyncBN is configured but the run is not distributed '
                  '(or has no GPU): using BatchNorm instead.')
    return revert_sync_batchnorm(module)


@HOOKS.register_module()
class SyncBNFallbackHook(Hook):
    """Apply :func:`sync_bn_fallback` to the runner's model before running."""

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = runner.model
        target = model.module if hasattr(model, 'module') else model
        for name, child in list(target.named_children()):
            setattr(target, name, sync_bn_fallback(child))
