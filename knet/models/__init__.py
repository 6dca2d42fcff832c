"""Models: importing this package registers them into mmdet.registry.MODELS."""
from . import (detectors, heads, layers, losses, necks, task_modules,  # noqa: F401
               trackers, utils)
