"""YouTube-VIS results: ``results.json`` and ``submission_file.zip``.

One entry per predicted track: ``{"video_id", "category_id", "score",
"segmentations": [RLE or null per frame]}``. The list has exactly one item
per frame of the video (null where the track is absent): a short list
silently inflates IoU in the official evaluator. The zip holds
``results.json`` at its root, as the CodaLab server expects.
"""
import io
import json
import zipfile
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np

from knet.formats.coco_mask import encode_rle
from knet.formats.io import atomic_write_bytes

__all__ = ['YouTubeVISWriter', 'write_youtube_vis_results']


class YouTubeVISWriter:
    """Accumulate tracks video by video; :meth:`close` writes the files."""

    def __init__(self, out_dir: Union[str, Path]):
        self.out_dir = Path(out_dir)
        self.results: List[dict] = []

    def add_track(self, video_id: int, category_id: int, score: float,
                  masks: Sequence[Optional[np.ndarray]]) -> None:
        """``masks``: one entry per frame of the video, a binary mask or None
        (also None for an empty mask)."""
        segs = []
        for m in masks:
            if m is None or not np.any(m):
                segs.append(None)
            else:
                segs.append(encode_rle(m))
        self.results.append(dict(video_id=int(video_id),
                                 category_id=int(category_id),
                                 score=float(score), segmentations=segs))

    def close(self) -> Path:
        """Write results.json and submission_file.zip; return the zip path."""
        return write_youtube_vis_results(self.results, self.out_dir)


def write_youtube_vis_results(results: List[dict],
                              out_dir: Union[str, Path]) -> Path:
    """Write ``results`` (official entries) as ``out_dir/results.json`` and
    ``out_dir/submission_file.zip``, atomically; return the zip path."""
    out_dir = Path(out_dir)
    data = json.dumps(results).encode()
    atomic_write_bytes(out_dir / 'results.json', data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('results.json', data)
    path = out_dir / 'submission_file.zip'
    atomic_write_bytes(path, buf.getvalue())
    return path
