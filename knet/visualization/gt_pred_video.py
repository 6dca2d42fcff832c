"""One ground truth | prediction video of a KITTI-STEP-format evaluation.

:class:`GtPredVideoWriter` turns the frames of a validation or test run
(mmdet ``DetDataSample`` with ``pred_panoptic_seg``) into side-by-side
panels: the ground truth read from the frame's KITTI-STEP panoptic PNG
(``seg_map_path``; GT track = trainId * 1000 + instance) and the prediction,
both in dataset ids so they share the palette and the track colours
(:func:`knet.visualization.draw.draw_panoptic`). The panels go to an MP4
(H.264) and optionally a GIF through :class:`~.video_io.VideoWriter`.
``GtPredVideoHook`` (:mod:`knet.visualization.hook`) drives it from a
config; ``make demo`` writes ``gt_vs_pred.mp4`` / ``.gif`` with it.
"""
from typing import Dict, List, Optional

import numpy as np

from knet.formats import (KITTI_STEP_IGNORE, KITTI_STEP_LABEL_DIVISOR,
                          decode_kitti_step)
from knet.formats.io import read_image

from .draw import draw_panoptic, hstack_frames
from .palette import build_class_palette
from .video_io import VideoWriter

__all__ = ['GtPredVideoWriter']


def _numpy_map(x, shape) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x).reshape(shape)


class GtPredVideoWriter:
    """Ground truth | prediction panels of every frame, to MP4 (and GIF).

    Args:
        dataset_meta: the dataset's ``metainfo`` (``classes``,
            ``thing_classes``, ``label_ids``: model label -> trainId,
            ``palette``).
        mp4: output ``.mp4`` path.
        gif: optional output ``.gif`` path (frames at most ``gif_max_width``
            wide).
        fps: frame rate.
        min_height: frames lower than this are enlarged by an integer factor
            (nearest), so the class names and ids stay legible.
        gif_max_width: see :class:`~.video_io.VideoWriter`.
    """

    def __init__(self,
                 dataset_meta: Dict,
                 mp4: str,
                 gif: Optional[str] = None,
                 fps: float = 4.0,
                 min_height: int = 192,
                 gif_max_width: int = 640) -> None:
        meta = dict(dataset_meta or {})
        self.palette = build_class_palette(meta, 'dataset')
        classes = list(meta.get('classes') or ())
        label_ids = np.asarray(
            meta.get('label_ids') or range(len(classes)), dtype=np.int64)
        # model label -> dataset id (trainId); unknown labels -> ignore
        self.lut = np.full(256, KITTI_STEP_IGNORE, dtype=np.int64)
        self.lut[:len(label_ids)] = label_ids
        things = set(meta.get('thing_classes') or ())
        self.thing_ids = [int(label_ids[i]) for i, c in enumerate(classes)
                          if c in things]
        self.min_height = int(min_height)
        self.writers: List[VideoWriter] = [VideoWriter(mp4, fps)]
        if gif:
            self.writers.append(
                VideoWriter(gif, fps, gif_max_width=gif_max_width))
        self.frames = 0

    def gt_maps(self, seg_map_path: str):
        """(semantic trainIds, GT track ids) of a KITTI-STEP panoptic PNG."""
        sem, inst = decode_kitti_step(read_image(seg_map_path)[..., :3])
        sem = sem.astype(np.int64)
        thing = np.isin(sem, self.thing_ids) & (inst > 0)  # 0: crowd
        return sem, np.where(thing, sem * KITTI_STEP_LABEL_DIVISOR + inst, 0)

    def add(self, sample) -> np.ndarray:
        """Draw one frame's data sample and append it; returns the panel."""
        meta = sample.metainfo
        frame = read_image(sample.img_path)
        if frame.ndim == 2:
            frame = np.repeat(frame[..., None], 3, axis=2)
        frame = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
        shape = frame.shape[:2]
        pan = sample.pred_panoptic_seg
        labels = _numpy_map(pan.sem_seg, shape).astype(np.int64)
        pred_sem = np.where(labels == KITTI_STEP_IGNORE, KITTI_STEP_IGNORE,
                            self.lut[np.clip(labels, 0, 255)])
        pred_track = (_numpy_map(pan.track_ids, shape).astype(np.int64)
                      if 'track_ids' in pan else np.zeros(shape, np.int64))
        gt_path = meta.get('seg_map_path') or sample.img_path.replace(
            '_leftImg8bit.png', '_panoptic.png')
        gt_sem, gt_track = self.gt_maps(gt_path)
        maps = [frame, gt_sem, gt_track, pred_sem, pred_track]
        scale = max(1, -(-self.min_height // shape[0]))  # ceil
        if scale > 1:
            maps = [np.repeat(np.repeat(m, scale, 0), scale, 1) for m in maps]
        frame, gt_sem, gt_track, pred_sem, pred_track = maps
        seq = meta.get('seq_name', meta.get('video_id'))
        panel = hstack_frames([
            draw_panoptic(frame, gt_sem, gt_track, self.palette),
            draw_panoptic(frame, pred_sem, pred_track, self.palette)
        ], [f'ground truth   seq {seq}  frame {meta.get("frame_id", "")}',
            'prediction'])
        for writer in self.writers:
            writer.write(panel)
        self.frames += 1
        return panel

    def close(self) -> List[str]:
        """Finish and verify the videos; returns their paths."""
        return [w.close() for w in self.writers]

    def abort(self) -> None:
        """Drop the unfinished videos (the targets are left as they were)."""
        for writer in self.writers:
            writer.abort()
