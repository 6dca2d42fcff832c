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
from typing import List, Union

from knet.formats.io import atomic_write_bytes

__all__ = ['write_youtube_vis_results']


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
