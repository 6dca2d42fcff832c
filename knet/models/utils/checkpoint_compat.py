"""Checkpoints of MMEngine 0.10.7 under torch >= 2.6 (``weights_only=True``).

torch 2.6 made ``torch.load`` default to ``weights_only=True``. MMEngine
0.10.7 calls ``torch.load`` without that argument, so loading a checkpoint it
wrote itself fails: the ``meta`` of a checkpoint holds the message hub's
``HistoryBuffer`` objects (NumPy arrays inside), NumPy scalars and dtypes.

We keep the safe default and allow exactly those types with
``torch.serialization.add_safe_globals`` instead of turning the check off, so
``load_from``, ``--resume`` and ``knet.apis.init_model`` work while a
checkpoint that smuggles in any other class is still refused.
:func:`knet.models.utils.read_checkpoint`, the one reader of checkpoint
files, registers the types (once) before every load.
"""
from typing import List

import numpy as np
import torch

__all__ = ['register_checkpoint_safe_globals', 'CHECKPOINT_SAFE_GLOBALS']


def _numpy_globals() -> List[object]:
    """NumPy types that pickled arrays, scalars and dtypes refer to."""
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in np.sctypeDict.values()]
    return [_reconstruct, scalar, np.ndarray, np.dtype, *set(dtype_classes)]


def _mmengine_globals() -> List[object]:
    """MMEngine's ``HistoryBuffer`` pickles its statistics as bound methods,
    which pickle writes as ``getattr(buffer, 'mean')``. Allowing ``getattr``
    is narrow here: the weights-only unpickler only builds allowed types and
    only *calls* allowed functions, so a looked-up attribute can be stored
    but never invoked."""
    import builtins

    from mmengine.logging import HistoryBuffer
    return [HistoryBuffer, builtins.getattr]


CHECKPOINT_SAFE_GLOBALS: List[object] = []


def register_checkpoint_safe_globals() -> List[object]:
    """Allow the types MMEngine checkpoints contain; idempotent."""
    if not CHECKPOINT_SAFE_GLOBALS and hasattr(torch.serialization,
                                               'add_safe_globals'):
        CHECKPOINT_SAFE_GLOBALS.extend(_numpy_globals() + _mmengine_globals())
        torch.serialization.add_safe_globals(CHECKPOINT_SAFE_GLOBALS)
    return CHECKPOINT_SAFE_GLOBALS


register_checkpoint_safe_globals()
