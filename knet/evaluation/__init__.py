"""Metrics (registered into mmdet.registry.METRICS) and submission writers."""
from . import metrics  # noqa: F401
