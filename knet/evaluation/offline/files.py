"""Label PNGs of the video panoptic benchmarks -> per-frame overlap tables.

One reader per file kind, shared by ``tools/eval_vps.py`` (ground truth and
predictions from files) and :class:`~knet.evaluation.metrics.VPSMetric`
(ground truth from files, predictions from the model):

* KITTI-STEP RGB maps, ground truth or submission
  (:func:`read_kitti_step`),
* VIPSeg raw panomasks (:func:`read_vipseg_panomask`),
* panopticapi RGB ids with their ``segments_info`` (Cityscapes-VPS ground
  truth, VIPSeg / Cityscapes-VPS predictions: :func:`read_panoptic`).

Each returns a :class:`LabelFrame`: the raw values and how they become
segment keys. :func:`frame_table` pairs two frames on the raw values and
maps only the distinct values to keys. Bad files raise a one-line
:class:`~knet.formats.io.DataError` naming the file.
"""
from pathlib import Path
from typing import Callable, Dict, Iterable, NamedTuple, Optional, Tuple

import numpy as np

from knet.evaluation.functional.frames import (keyed_table, kitti_step_keys,
                                               panoptic_ids_to_keys,
                                               segments_info_order,
                                               vipseg_gt_keys)
from knet.evaluation.functional.segments import (FrameTable, UnknownIdError,
                                                 pair_table,
                                                 pair_table_known)
from knet.formats.io import DataError, read_image, read_rgb_planes
from knet.formats.kitti_step import (KITTI_STEP_IGNORE,
                                     KITTI_STEP_NUM_CLASSES,
                                     KITTI_STEP_THING_IDS, pack_kitti_step)
from knet.formats.panopticapi import rgb2id

__all__ = [
    'LabelFrame', 'read_kitti_step', 'read_vipseg_panomask', 'read_panoptic',
    'read_ground_truth', 'frame_table'
]

Segments = Dict[int, Tuple[int, bool]]


class LabelFrame(NamedTuple):
    """One decoded label file.

    ``ids``: H x W raw values (KITTI-STEP: packed codes). ``to_keys``: raw
    values -> segment keys (None: ``ids`` already are keys). ``known``: the
    ids ``segments_info`` lists (panopticapi files), else None; ``listed_in``
    names that list in errors. ``order``: ground-truth keys in
    ``segments_info`` order (VPSNet's crowd choice), else None.
    """
    ids: np.ndarray
    path: str = ''
    to_keys: Optional[Callable[[np.ndarray], np.ndarray]] = None
    known: Optional[np.ndarray] = None
    listed_in: str = ''
    order: Optional[np.ndarray] = None


def _keys_or_error(fn, where: str):
    """``fn`` with its ValueError turned into a DataError naming ``where``."""
    def to_keys(values):
        try:
            return fn(values)
        except ValueError as e:
            raise DataError(f'{where}: {e}') from None
    return to_keys


def read_kitti_step(path, what: str = 'ground truth',
                    num_classes: int = KITTI_STEP_NUM_CLASSES,
                    things: Iterable[int] = KITTI_STEP_THING_IDS,
                    planes: Optional[Tuple[np.ndarray, ...]] = None
                    ) -> LabelFrame:
    """A KITTI-STEP RGB map; ``what='prediction'`` reads a submission PNG
    (no crowd). ``planes``: the file's (R, G, B) planes if already read."""
    if planes is None:
        planes = read_rgb_planes(path, what)
    try:
        codes, scale = pack_kitti_step(planes)
    except ValueError as e:
        raise DataError(f'{path}: {e}') from None
    things = tuple(things)
    is_gt = what != 'prediction'

    def to_keys(values):
        try:
            return kitti_step_keys(values, scale, num_classes, things,
                                   KITTI_STEP_IGNORE, is_gt, what)
        except ValueError as e:
            # the packed codes lost an illegal R value: name it from R
            r = planes[0]
            bad = (r >= num_classes) & (r != KITTI_STEP_IGNORE)
            if bad.any():
                raise DataError(
                    f'{path}: {what} has class id {int(r[bad][0])} (R '
                    f'channel), neither 0..{num_classes - 1} nor the ignore '
                    f'label {KITTI_STEP_IGNORE}') from None
            raise DataError(f'{path}: {e}') from None

    return LabelFrame(codes, str(path), to_keys)


def read_vipseg_panomask(path, isthing: np.ndarray) -> LabelFrame:
    """A raw VIPSeg panomask (ground truth); ``isthing[c]``: category c is
    a thing."""
    raw = read_image(path, 'ground truth')
    if raw.ndim != 2 or raw.dtype.kind not in 'ui':
        raise DataError(f'{path}: panomask must be a single-channel PNG, got '
                        f'shape {raw.shape}')
    return LabelFrame(raw, str(path), _keys_or_error(
        lambda v: vipseg_gt_keys(v, isthing), str(path)))


def read_panoptic(path, segments: Segments, what: str = 'ground truth',
                  listed_in: str = 'the ground-truth JSON',
                  categories: Optional[set] = None) -> LabelFrame:
    """A panopticapi RGB PNG with its ``segments`` (from
    :func:`knet.formats.panopticapi.parse_segments_info`); ``categories``:
    the known category ids (others raise). Prediction errors name
    ``listed_in`` (the pred.json) and the PNG."""
    rgb = read_image(path, what)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise DataError(f'{path}: {what} must be an 8-bit RGB PNG, got '
                        f'shape {rgb.shape} and dtype {rgb.dtype}')
    is_gt = what == 'ground truth'
    where = str(path) if is_gt else f'{listed_in} ({Path(path).name})'
    return LabelFrame(
        rgb2id(rgb), str(path),
        _keys_or_error(
            lambda v: panoptic_ids_to_keys(v, segments, categories, what),
            where),
        np.array(sorted(segments), np.int64), listed_in,
        segments_info_order(segments) if is_gt else None)


def read_ground_truth(benchmark: str, path, *,
                      num_classes: int = KITTI_STEP_NUM_CLASSES,
                      things: Iterable[int] = KITTI_STEP_THING_IDS,
                      isthing: Optional[np.ndarray] = None,
                      segments: Optional[Segments] = None) -> LabelFrame:
    """The ground-truth file of one frame as the benchmark stores it:
    'kitti-step' (``num_classes``, ``things``), 'vipseg' (``isthing``) or
    'cityscapes-vps' (the frame's ``segments``)."""
    if benchmark == 'kitti-step':
        return read_kitti_step(path, 'ground truth', num_classes, things)
    if benchmark == 'vipseg':
        return read_vipseg_panomask(path, isthing)
    if benchmark == 'cityscapes-vps':
        return read_panoptic(path, segments)
    raise ValueError(f'unknown benchmark {benchmark!r}')


def frame_table(gt: LabelFrame, pred: LabelFrame) -> FrameTable:
    """The (gt key, pred key, count) table of two frames of one size."""
    if gt.ids.shape[:2] != pred.ids.shape[:2]:
        (h, w), (gh, gw) = pred.ids.shape[:2], gt.ids.shape[:2]
        raise DataError(f'{pred.path}: prediction is {w}x{h} but the ground '
                        f'truth {gt.path} is {gw}x{gh}')
    if pred.known is None:
        table = pair_table(gt.ids, pred.ids)
    else:
        try:
            table = pair_table_known(gt.ids, gt.known, pred.ids, pred.known)
        except UnknownIdError as e:
            frame = pred if e.side == 'predicted' else gt
            raise DataError(f'{frame.path}: segment id {e.value} is in the '
                            f'PNG but not in {frame.listed_in}') from None
        missing = set(pred.known.tolist()) - set(table[1].tolist())
        if missing:
            raise DataError(f'{pred.listed_in}: segment ids {sorted(missing)}'
                            f' of {Path(pred.path).name} are not in the PNG')
    return keyed_table(table, gt.to_keys, pred.to_keys)
