"""Datasets and transforms, registered into mmdet's DATASETS / TRANSFORMS.

Dataset modules (one per family) are imported automatically; ``refer``,
``synthetic`` and ``checkers`` are plain libraries, not registered modules.
"""
from knet.utils.autoimport import import_submodules

from . import transforms  # noqa: F401

__all__ = import_submodules(__name__, __path__, globals())
