"""KITTI-STEP submission writer: ``{seq:04d}/{frame:06d}.png`` RGB maps.

The official encoding (also the ground truth's): R = Cityscapes trainId
(255 = void), instance id = G * 256 + B. Thing pixels carry their track id,
stuff pixels instance 0. This is the layout ``tools/eval_vps.py kitti-step
--pred-dir`` and the KITTI server read.
"""
from pathlib import Path
from typing import Iterable, Union

import numpy as np

from knet.formats.io import save_image
from knet.formats.kitti_step import KITTI_STEP_THING_IDS, encode_kitti_step

__all__ = ['KittiStepWriter']


class KittiStepWriter:
    """Write one frame at a time (atomic PNG writes).

    Args:
        out_dir: submission root.
        thing_ids: trainIds that are things (track ids kept); other classes
            are written with instance 0.
    """

    def __init__(self, out_dir: Union[str, Path],
                 thing_ids: Iterable[int] = KITTI_STEP_THING_IDS):
        self.out_dir = Path(out_dir)
        self.thing_ids = tuple(int(t) for t in thing_ids)

    def path(self, seq: int, frame: int) -> Path:
        return self.out_dir / f'{int(seq):04d}' / f'{int(frame):06d}.png'

    def write(self, seq: int, frame: int, semantic: np.ndarray,
              track_ids: np.ndarray) -> Path:
        """``semantic``: H x W trainIds (255 void); ``track_ids``: H x W,
        >= 0 (only kept on thing pixels)."""
        semantic = np.asarray(semantic)
        track_ids = np.asarray(track_ids)
        if semantic.shape != track_ids.shape:
            raise ValueError('semantic and track maps differ in shape')
        if semantic.size and (semantic.min() < 0 or semantic.max() > 255):
            raise ValueError('KITTI-STEP classes must lie in [0, 255]')
        inst = np.where(np.isin(semantic, self.thing_ids), track_ids, 0)
        path = self.path(seq, frame)
        save_image(path, encode_kitti_step(semantic.astype(np.uint8),
                                           inst.astype(np.int64)))
        return path
