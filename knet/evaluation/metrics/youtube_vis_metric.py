"""mmdet's ``YouTubeVISMetric`` made runnable with NumPy >= 1.24.

Identical results: the youtubevos AP maths of mmdet 3.3's ``ytviseval``
(which still calls ``np.float``) run inside
:func:`knet.evaluation.functional.compat.numpy_float_alias`. Use
``type='KNetYouTubeVISMetric'`` in configs wherever AP is computed
(``format_only=True`` never reaches the evaluator and works with either).
"""
from typing import Dict, List

from mmdet.evaluation.metrics import YouTubeVISMetric
from mmdet.registry import METRICS

from knet.evaluation.functional.compat import numpy_float_alias

__all__ = ['KNetYouTubeVISMetric']


@METRICS.register_module()
class KNetYouTubeVISMetric(YouTubeVISMetric):
    """``YouTubeVISMetric`` with the NumPy 2 shim (same arguments)."""

    def compute_metrics(self, results: List) -> Dict[str, float]:
        with numpy_float_alias():
            return super().compute_metrics(results)
