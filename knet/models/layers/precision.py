"""Float32 islands inside a mixed-precision (autocast) forward.

Under ``--amp`` the network runs under autocast (bfloat16 / float16), but
some parts need float32 to be right: the losses (focal, dice and BCE sum
many small terms; mmcv's compiled focal loss has no bfloat16 kernel), the
Hungarian assignment costs (a rounded cost can change the matching) and the
panoptic merge and tracking (argmax over score x probability, thresholds
0.5 / 0.6 on areas). :func:`float32_region` turns autocast off for a block
and :func:`to_float32` casts its tensor inputs. Without autocast both do
nothing (no copies: ``float()`` of a float32 tensor returns it).
"""
from contextlib import contextmanager
from typing import Any, Iterator, Union

import torch
from torch import Tensor

__all__ = ['float32_region', 'to_float32']


def _autocast_enabled(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4: no device argument
        if device_type == 'cpu':
            return torch.is_autocast_cpu_enabled()
        return torch.is_autocast_enabled()


@contextmanager
def float32_region(device: Union[str, torch.device]) -> Iterator[None]:
    """Run the block with autocast off on ``device``'s type (if it is on)."""
    device_type = torch.device(device).type
    if not _autocast_enabled(device_type):
        yield
        return
    with torch.autocast(device_type=device_type, enabled=False):
        yield


def to_float32(obj: Any) -> Any:
    """Floating-point tensors (also inside dicts, lists and tuples) as
    float32; everything else unchanged."""
    if isinstance(obj, Tensor):
        return obj.float() if obj.is_floating_point() else obj
    if isinstance(obj, dict):
        return type(obj)((k, to_float32(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_float32(v) for v in obj)
    return obj
