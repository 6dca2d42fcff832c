"""Host <-> device copies of the training step's bookkeeping.

The Hungarian matching runs on the host, so each assignment moves a cost
matrix to the host and the matched indices back. A blocking copy waits for
every queued kernel; on CUDA the GPU then idles while the host catches up.
The training step therefore copies through these two functions only: one
device -> host copy per assignment call (all images, and all stages where
they are known together) and non-blocking host -> device copies from pinned
memory. On the CPU both are plain conversions.
"""
import numpy as np
import torch
from torch import Tensor

__all__ = ['device_to_host', 'host_to_device']


def device_to_host(tensor: Tensor) -> np.ndarray:
    """``tensor`` as a NumPy array (one synchronising copy on a GPU)."""
    return tensor.detach().cpu().numpy()


def host_to_device(array, device: torch.device,
                   dtype: torch.dtype = None) -> Tensor:
    """NumPy array (or nested list) -> tensor on ``device``; on CUDA through
    pinned memory without blocking the host."""
    tensor = torch.as_tensor(np.asarray(array))
    if dtype is not None:
        tensor = tensor.to(dtype)
    device = torch.device(device)
    if device.type != 'cuda':
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)
