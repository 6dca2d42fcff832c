"""mmdet's ``YouTubeVISMetric`` made runnable with NumPy >= 1.24, writing the
submission files where the other knet metrics write theirs.

Identical AP: the youtubevos maths of mmdet 3.3's ``ytviseval`` (which still
calls ``np.float``) run inside
:func:`knet.evaluation.functional.compat.numpy_float_alias`. Use
``type='KNetYouTubeVISMetric'`` in configs wherever AP is computed.

Differences from mmdet's class, all about files and state:

* ``outfile_prefix`` is a *folder* (as for the VPS metrics and
  ``tools/test.py --submission-dir``): ``<folder>/results.json`` and
  ``<folder>/submission_file.zip`` (``results.json`` at the zip's root, as
  the server expects) are written atomically, with or without
  ``format_only`` (mmdet writes ``<prefix>.json`` only when formatting).
* the per-run state is reset after ``evaluate``, so a second validation
  (next epoch) or a second ``runner.test()`` does not fail on the gathered
  meta information mmdet leaves behind.
"""
from collections import defaultdict
from typing import Dict, List

from mmdet.evaluation.metrics import YouTubeVISMetric
from mmdet.registry import METRICS

from knet.evaluation.functional.compat import numpy_float_alias
from knet.evaluation.writers.youtube_vis import write_youtube_vis_results

__all__ = ['KNetYouTubeVISMetric']


@METRICS.register_module()
class KNetYouTubeVISMetric(YouTubeVISMetric):
    """``YouTubeVISMetric`` with the NumPy 2 shim (same arguments)."""

    def compute_metrics(self, results: List) -> Dict[str, float]:
        if self.outfile_prefix and not self.format_only:
            # mmdet formats the predictions only on the format_only path;
            # format them here too so a local AP run also leaves the files
            preds, _ = zip(*results)
            self.save_pred_results(self.format_preds(preds))
        with numpy_float_alias():
            return super().compute_metrics(results)

    def save_pred_results(self, pred_results: List) -> None:
        """Write results.json + submission_file.zip into ``outfile_prefix``."""
        if self.outfile_prefix is None:
            return
        write_youtube_vis_results(pred_results, self.outfile_prefix)

    def evaluate(self, size: int) -> dict:
        try:
            return super().evaluate(size)
        finally:
            self.per_video_res = []
            self._vis_meta_info = defaultdict(list)
