"""panopticapi-style video predictions: ``pan_pred/`` PNGs + ``pred.json``.

Two official layouts (what the VPQ scripts read):

* ``'vipseg'`` (VIPSeg ``eval_vpq_vspw.py``): ``pan_pred/<video>/<frame>.png``
  and ``pred.json = {"annotations": [{"video_id", "annotations": [{"image_id",
  "file_name", "segments_info"}, ...]}]}``, frames in video order (the
  evaluator pairs them with the ground truth by position).
* ``'cityscapes-vps'`` (VPSNet ``eval_vpq.py``): ``pan_pred/<image_id>.png``
  and ``pred.json = {"annotations": [{"image_id", "file_name",
  "segments_info"}, ...]}``.

Segment ids are stable across a video (the evaluators make tubes from equal
ids): ``id = (category + 1) + 256 * track_id`` (stuff: track 0), written as
RGB with ``id = R + 256 G + 256^2 B``; void pixels get id 0.
"""
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import numpy as np

from knet.formats.io import dump_json, save_image
from knet.formats.panopticapi import id2rgb

__all__ = ['PanopticVideoWriter']

LAYOUTS = ('vipseg', 'cityscapes-vps')


class PanopticVideoWriter:
    """Collect frames, write PNGs at once and ``pred.json`` on :meth:`close`.

    Args:
        out_dir: output root (``pan_pred/`` and ``pred.json`` go inside).
        thing_ids: dataset category ids that are things (track ids kept).
        layout: 'vipseg' or 'cityscapes-vps'.
        ignore_index: semantic value written as void (id 0).
    """

    def __init__(self, out_dir: Union[str, Path], thing_ids: Iterable[int],
                 layout: str = 'vipseg', ignore_index: int = 255):
        if layout not in LAYOUTS:
            raise ValueError(f'layout must be one of {LAYOUTS}')
        self.out_dir = Path(out_dir)
        self.thing_ids = np.array(sorted(int(t) for t in thing_ids))
        self.layout = layout
        self.ignore_index = ignore_index
        #: video -> its frames' annotations, in writing order (PNGs are
        #: written at once; this is what ``pred.json`` will hold)
        self.videos: Dict[str, List[dict]] = {}

    @staticmethod
    def segment_ids(semantic: np.ndarray, track_ids: np.ndarray,
                    thing_ids: np.ndarray, ignore_index: int = 255):
        semantic = np.asarray(semantic).astype(np.int64)
        track = np.where(np.isin(semantic, thing_ids),
                         np.asarray(track_ids).astype(np.int64), 0)
        if semantic.size and (semantic.min() < 0 or
                              (semantic[semantic != ignore_index].max(
                                  initial=0) > 254)):
            raise ValueError('categories must lie in [0, 254]')
        if track.size and (track.min() < 0 or track.max() >= 65536):
            raise ValueError('track ids must lie in [0, 65536)')
        ids = (semantic + 1) + 256 * track
        return np.where(semantic == ignore_index, 0, ids)

    def write(self, video: str, frame_name: str, semantic: np.ndarray,
              track_ids: np.ndarray, image_id: Optional[str] = None) -> Path:
        """Write one frame. ``semantic`` holds dataset category ids.

        ``frame_name``: the ground-truth frame's PNG name (VIPSeg) or the
        image id (Cityscapes-VPS, ``<image_id>.png``).
        """
        ids = self.segment_ids(semantic, track_ids, self.thing_ids,
                               self.ignore_index)
        values, counts = np.unique(ids, return_counts=True)
        segments = []
        for v, n in zip(values.tolist(), counts.tolist()):
            if v == 0:
                continue
            cat = v % 256 - 1
            segments.append(dict(id=int(v), category_id=int(cat), iscrowd=0,
                                 area=int(n),
                                 isthing=int(cat in self.thing_ids)))
        stem = Path(frame_name).stem
        name = f'{stem}.png'
        if self.layout == 'vipseg':
            path = self.out_dir / 'pan_pred' / video / name
        else:
            path = self.out_dir / 'pan_pred' / name
        save_image(path, id2rgb(ids))
        self.videos.setdefault(video, []).append(dict(
            image_id=image_id if image_id is not None else stem,
            file_name=name, segments_info=segments))
        return path

    def merge(self, videos: Dict[str, List[dict]]) -> None:
        """Add annotations collected by another writer (another rank)."""
        for video, frames in videos.items():
            self.videos.setdefault(video, []).extend(frames)

    def close(self) -> Path:
        """Write ``pred.json`` (atomically) and return its path."""
        if self.layout == 'vipseg':
            anns = [dict(video_id=v, annotations=frames)
                    for v, frames in self.videos.items()]
        else:
            anns = [a for frames in self.videos.values() for a in frames]
        path = self.out_dir / 'pred.json'
        dump_json(dict(annotations=anns), path)
        return path
