"""Per-frame overlap tables from each benchmark's label encoding.

These turn decoded label images into the (gt key, pred key, count) table of
``segments.py``; everything image-sized is done with a few vectorised passes
over small integer arrays (no ``np.unique`` sort on the hot KITTI-STEP path).
Invalid input raises ``ValueError`` with a message the caller prefixes with
the file name.
"""
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from .segments import FrameTable, make_keys, pair_table

__all__ = [
    'kitti_step_table', 'kitti_step_raw', 'vipseg_gt_keys',
    'panoptic_ids_to_keys', 'panoptic_table', 'semantic_instance_keys'
]


def _planes(rgb) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(rgb, (tuple, list)):
        if len(rgb) != 3:
            raise ValueError('expected (R, G, B) planes')
        planes = tuple(np.asarray(c) for c in rgb)
    else:
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f'expected an RGB image, got shape {rgb.shape}')
        planes = (rgb[..., 0], rgb[..., 1], rgb[..., 2])
    if any(c.dtype != np.uint8 or c.shape != planes[0].shape
           for c in planes):
        raise ValueError('expected 8-bit RGB planes of one shape')
    return planes


def kitti_step_raw(rgb) -> Tuple[np.ndarray, int]:
    """Pack a KITTI-STEP map (R = class, instance = G * 256 + B), given as an
    H x W x 3 array or as (R, G, B) planes, into one non-negative integer
    code per pixel with shifts and ORs only; returns (codes, scale).

    No instance reaches 256 (G = 0, the usual case): uint16 codes
    ``R * 256 + instance``, scale 256. Otherwise uint32 codes
    ``index(R) * s + instance`` with a power of two s and index(R) from
    ``_R_INDEX`` (0..18 as is, 255 -> 19, others -> 20), returned as scale
    ``-s``; ``_kitti_keys`` undoes both."""
    r, g, b = _planes(rgb)
    gmax = int(g.max()) if g.size else 0
    if gmax == 0:
        codes = r.astype(np.uint16)
        codes <<= 8
        codes |= b
        return codes, 256
    # Large instance ids: code = class index (R through a small lookup
    # table, see _R_INDEX) << shift | instance, a compact range.
    shift = 8 + gmax.bit_length()
    codes = np.take(_R_INDEX, r).astype(np.uint32)
    codes <<= shift
    gg = g.astype(np.uint32)
    gg <<= 8
    codes |= gg
    codes |= b
    return codes, -(1 << shift)


#: R value -> small index: classes 0..18 as is, 255 (ignore) -> 19, any
#: other value (an error) -> 20; _R_VALUE maps back (20 -> 256, invalid).
_R_INDEX = np.full(256, 20, dtype=np.uint8)
_R_INDEX[:19] = np.arange(19)
_R_INDEX[255] = 19
_R_VALUE = np.array(list(range(19)) + [255, 256], dtype=np.int64)


def _kitti_keys(codes: np.ndarray, scale: int, num_classes: int,
                things: np.ndarray, ignore: int, is_gt: bool,
                what: str) -> np.ndarray:
    if scale < 0:  # class index codes (see kitti_step_raw)
        scale = -scale
        sem = _R_VALUE[codes // scale]
    else:
        sem = codes // scale
    inst = codes % scale
    void = sem == ignore
    bad = ~void & (sem >= num_classes)
    if bad.any():
        value = int(sem[bad][0])
        value = 'outside 0..255' if value > 255 else value
        raise ValueError(f'{what} has class id {value}, neither '
                         f'0..{num_classes - 1} nor the ignore label {ignore}')
    crowd = np.isin(sem, things) & (inst == 0) if is_gt else None
    return make_keys(np.where(void, 0, sem), inst, crowd=crowd, void=void)


def kitti_step_table(gt_rgb, pred_rgb,
                     num_classes: int = 19,
                     things: Iterable[int] = (11, 13),
                     ignore: int = 255) -> FrameTable:
    """Overlap table of a KITTI-STEP GT map and a submission-format map
    (each an H x W x 3 array or (R, G, B) planes).

    GT: void = the ignore class (any instance); crowd = a thing class with
    instance 0. Prediction: the ignore class is predicted void; every other
    (class, instance) pair is a segment.
    """
    gshape, pshape = _planes(gt_rgb)[0].shape, _planes(pred_rgb)[0].shape
    if gshape != pshape:
        raise ValueError(f'prediction is {pshape[1]}x{pshape[0]} but the '
                         f'ground truth is {gshape[1]}x{gshape[0]}')
    things = np.asarray(list(things), dtype=np.int64)
    gc, gs = kitti_step_raw(gt_rgb)
    pc, ps = kitti_step_raw(pred_rgb)
    g, p, c = pair_table(gc, pc)
    return (_kitti_keys(g, gs, num_classes, things, ignore, True,
                        'ground truth'),
            _kitti_keys(p, ps, num_classes, things, ignore, False,
                        'prediction'), c)


def semantic_instance_keys(semantic: np.ndarray, instance: np.ndarray,
                           things: Iterable[int], ignore: int = 255,
                           crowd: bool = True) -> np.ndarray:
    """Keys for (semantic, instance) maps in dataset ids (used by metrics
    that get model outputs). ``crowd``: mark thing pixels with instance 0."""
    semantic = np.asarray(semantic).astype(np.int64)
    instance = np.asarray(instance).astype(np.int64)
    void = semantic == ignore
    cw = np.isin(semantic, list(things)) & (instance == 0) if crowd else None
    return make_keys(np.where(void, 0, semantic), instance, crowd=cw,
                     void=void)


def vipseg_gt_keys(values: np.ndarray, isthing: np.ndarray) -> np.ndarray:
    """Keys of raw VIPSeg panomask values, as the official conversion
    (``create_panoptic_video_labels.py``) decodes them.

    0 is void; v < 125 is category v - 1; otherwise category v // 100 - 1
    with instance v % 100. There is no crowd (a thing with instance 0, e.g.
    6100, is an ordinary instance). Every thing value is its own segment;
    all values of one stuff category share one segment (the converter paints
    stuff with the category colour, so they merge).
    """
    values = np.asarray(values, dtype=np.int64)
    cat = np.where(values < 125, values - 1, values // 100 - 1)
    void = values == 0
    bad = ~void & ((cat < 0) | (cat >= len(isthing)))
    if bad.any():
        raise ValueError(f'panomask value {int(values[bad][0])} decodes to '
                         f'an unknown category')
    cat = np.where(void, 0, cat)
    thing = np.asarray(isthing, bool)[cat]
    return make_keys(cat, np.where(thing, values, 0), void=void)


def panoptic_ids_to_keys(ids: np.ndarray, segments: Dict[int, Tuple[int,
                                                                     bool]],
                         categories: Optional[set] = None,
                         what: str = 'PNG') -> np.ndarray:
    """Keys for panopticapi segment ids (id 0 = void).

    ``segments``: id -> (category_id, iscrowd) from ``segments_info``. An id
    not listed raises (the official scripts raise KeyError), as does a
    category not in ``categories``.
    """
    ids = np.asarray(ids, dtype=np.int64)
    out = np.zeros(ids.shape, dtype=np.int64)
    for i, sid in enumerate(ids.ravel()):
        sid = int(sid)
        if sid == 0:
            continue
        if sid not in segments:
            raise ValueError(f'segment id {sid} is in the {what} but not in '
                             f'its JSON segments_info')
        cat, crowd = segments[sid]
        if categories is not None and cat not in categories:
            raise ValueError(f'segment id {sid} has unknown category_id '
                             f'{cat}')
        out.flat[i] = make_keys(cat, sid, crowd=bool(crowd))
    return out


def panoptic_table(gt_ids: np.ndarray, pred_ids: np.ndarray) -> FrameTable:
    """Overlap table of two panopticapi id maps (raw ids, not keys yet).

    Ids up to 2**24 are compacted with a sort (``np.unique``) when large.
    """
    return pair_table(gt_ids, pred_ids)

