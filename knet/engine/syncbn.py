"""SyncBN in configs, plain BN in a multi-process run without CUDA.

The release trains with SyncBN on 8 GPUs, and the configs keep it.
MMEngine's runner already turns SyncBN into BN when the run is not
distributed; a distributed run on CPU (gloo) is left to fail, because
PyTorch's ``DistributedDataParallel`` refuses SyncBN in CPU modules.
:class:`knet.engine.runner.KNetRunner` calls :func:`sync_bn_fallback` on the
model before wrapping it, so the same config trains on GPUs and CPUs. Models
never convert their norms themselves.
"""
import warnings

import torch
from mmengine.model import revert_sync_batchnorm
from torch import nn

__all__ = ['sync_bn_fallback']


def _has_sync_bn(module: nn.Module) -> bool:
    """torch's or mmcv's SyncBatchNorm (the ones MMEngine reverts)."""
    return any(type(m).__name__ == 'SyncBatchNorm' for m in module.modules())


def sync_bn_fallback(module: nn.Module) -> nn.Module:
    """``module`` with its SyncBN layers turned into BN (with a warning) when
    no GPU is available; unchanged otherwise. The BN layers keep the
    parameter and buffer tensors of the SyncBN layers they replace."""
    if torch.cuda.is_available() or not _has_sync_bn(module):
        return module
    warnings.warn('SyncBN is configured but no GPU is available: using '
                  'BatchNorm instead.')
    return revert_sync_batchnorm(module)
