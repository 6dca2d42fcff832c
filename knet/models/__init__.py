"""Models: importing this package registers them into mmdet.registry.MODELS."""
from . import (detectors, heads, layers, losses, necks,  # noqa: F401
               postprocessing, task_modules, trackers, utils)
