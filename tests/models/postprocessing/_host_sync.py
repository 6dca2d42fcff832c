"""Count the calls that make a host wait for a GPU, on any device.

On CUDA every op that needs a value on the host (``item``, ``bool()``,
``nonzero``, boolean-mask indexing, ``tolist``, ...) stalls until the queued
kernels finish. The same calls are visible on CPU tensors through torch's
dispatch and function modes, so tests count them without a GPU.
"""
import collections
import traceback

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

_ATEN_SYNCS = ('_local_scalar_dense', 'nonzero', 'nonzero_static',
               'masked_select', 'bincount', 'unique', '_unique',
               '_unique2', 'unique_consecutive', 'unique_dim',
               'repeat_interleave')
_METHOD_SYNCS = ('tolist', 'numpy', 'cpu')


def _caller() -> str:
    """file:line of the innermost frame outside torch and this file."""
    for frame in reversed(traceback.extract_stack()):
        if '/torch/' not in frame.filename and \
                not frame.filename.endswith('_host_sync.py'):
            return f'{frame.filename.rsplit("/", 2)[-1]}:{frame.lineno}'
    return '?'


def _is_bool(t) -> bool:
    return isinstance(t, torch.Tensor) and t.dtype in (torch.bool,
                                                        torch.uint8)


class _Aten(TorchDispatchMode):

    def __init__(self, owner):
        super().__init__()
        self.owner = owner

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name.split('::')[-1]
        if name in _ATEN_SYNCS:
            self.owner.add(name)
        elif name in ('index', 'index_put', 'index_put_',
                      '_index_put_impl_') and len(args) > 1 and any(
                          _is_bool(i) for i in args[1] or ()):
            self.owner.add('boolean index')
        return func(*args, **(kwargs or {}))


class _Methods(TorchFunctionMode):

    def __init__(self, owner):
        super().__init__()
        self.owner = owner

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, '__name__', '')
        if name in _METHOD_SYNCS:
            self.owner.add(name)
        return func(*args, **(kwargs or {}))


class HostSyncs:
    """Context manager; ``counts`` maps each kind of host read to its
    number of calls inside the block, ``where`` each call site (file:line)
    to its number, ``total`` sums them."""

    def __init__(self):
        self.counts = collections.Counter()
        self.where = collections.Counter()
        self._modes = [_Methods(self), _Aten(self)]

    def add(self, kind: str) -> None:
        self.counts[kind] += 1
        self.where[_caller()] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __enter__(self):
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc):
        for mode in reversed(self._modes):
            mode.__exit__(*exc)
