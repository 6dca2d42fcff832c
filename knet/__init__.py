"""Video K-Net on MMEngine, MMCV 2 and MMDetection 3.

Importing ``knet`` is cheap. The registering subpackages (``knet.datasets``,
``knet.models``, ``knet.evaluation.metrics``, ``knet.visualization``,
``knet.engine``) are imported by configs through ``custom_imports`` or by
:func:`knet.utils.register_all_modules`. ``knet.formats`` and
``knet.evaluation.{functional,offline,writers}`` need neither torch nor the
OpenMMLab packages.
"""
from .version import __version__

__all__ = ['__version__']
