"""Compatibility shims for the reference evaluators we call.

mmdet 3.3's copy of the youtubevos evaluator (``ytviseval.accumulate``)
still uses ``np.float``, removed in NumPy 1.24; :func:`numpy_float_alias`
provides it (as the builtin ``float``, what it always meant) for the
duration of a call only.
"""
import contextlib

import numpy as np

__all__ = ['numpy_float_alias']


@contextlib.contextmanager
def numpy_float_alias():
    """Temporarily define ``np.float = float`` when NumPy lacks it."""
    had = 'float' in np.__dict__
    if not had:
        np.float = float
    try:
        yield
    finally:
        if not had:
            del np.float
