"""Video K-Net on MMEngine, MMCV 2 and MMDetection 3.

Importing ``knet`` is cheap. The registering subpackages (``knet.datasets``,
``knet.models``, ``knet.evaluation``, ``knet.visualization``) are imported by
configs through ``custom_imports`` or by :func:`knet.utils.register_all_modules`.
"""
from .version import __version__

__all__ = ['__version__']
