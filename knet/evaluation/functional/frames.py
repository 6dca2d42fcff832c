"""Segment keys of each benchmark's label encoding, and per-frame tables.

These turn decoded label values into the segment keys of ``segments.py``.
The usual pattern pairs the two raw maps first (:func:`pair_table`) and maps
only the short list of distinct values to keys (:func:`keyed_table`), so
nothing image-sized is decoded twice. The encodings themselves live in
:mod:`knet.formats`. Invalid input raises ``ValueError`` with a message the
caller prefixes with the file name.
"""
from typing import Callable, Dict, Iterable, Optional, Tuple

import numpy as np

from knet.formats.kitti_step import (KITTI_STEP_IGNORE,
                                     KITTI_STEP_NUM_CLASSES,
                                     KITTI_STEP_THING_IDS, pack_kitti_step,
                                     unpack_kitti_step)
from knet.formats.vipseg import vipseg_category
from .segments import FrameTable, make_keys, merge_tables, pair_table

__all__ = [
    'kitti_step_keys', 'kitti_step_table', 'vipseg_gt_keys',
    'panoptic_ids_to_keys', 'segments_info_order', 'semantic_instance_keys',
    'keyed_table'
]

KeyFn = Callable[[np.ndarray], np.ndarray]


def kitti_step_keys(codes: np.ndarray, scale: int,
                    num_classes: int = KITTI_STEP_NUM_CLASSES,
                    things: Iterable[int] = KITTI_STEP_THING_IDS,
                    ignore: int = KITTI_STEP_IGNORE, is_gt: bool = True,
                    what: str = 'ground truth') -> np.ndarray:
    """Keys of KITTI-STEP codes (:func:`knet.formats.pack_kitti_step`).

    Void = the ignore class (any instance). Ground truth: a thing class with
    instance 0 is crowd. Prediction: every other (class, instance) pair is a
    segment. A class outside ``0..num_classes-1`` raises.
    """
    sem, inst = unpack_kitti_step(codes, scale)
    void = sem == ignore
    bad = ~void & (sem >= num_classes)
    if bad.any():
        value = int(sem[bad][0])
        value = 'outside 0..255' if value > 255 else value
        raise ValueError(f'{what} has class id {value}, neither '
                         f'0..{num_classes - 1} nor the ignore label {ignore}')
    things = np.asarray(list(things), dtype=np.int64)
    crowd = np.isin(sem, things) & (inst == 0) if is_gt else None
    return make_keys(np.where(void, 0, sem), inst, crowd=crowd, void=void)


def kitti_step_table(gt_rgb, pred_rgb,
                     num_classes: int = KITTI_STEP_NUM_CLASSES,
                     things: Iterable[int] = KITTI_STEP_THING_IDS,
                     ignore: int = KITTI_STEP_IGNORE) -> FrameTable:
    """Overlap table of a KITTI-STEP GT map and a submission-format map
    (each an H x W x 3 array or (R, G, B) planes)."""
    gc, gs = pack_kitti_step(gt_rgb)
    pc, ps = pack_kitti_step(pred_rgb)
    if gc.shape != pc.shape:
        raise ValueError(f'prediction is {pc.shape[1]}x{pc.shape[0]} but the '
                         f'ground truth is {gc.shape[1]}x{gc.shape[0]}')
    return keyed_table(
        pair_table(gc, pc),
        lambda g: kitti_step_keys(g, gs, num_classes, things, ignore, True,
                                  'ground truth'),
        lambda p: kitti_step_keys(p, ps, num_classes, things, ignore, False,
                                  'prediction'))


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
    (``create_panoptic_video_labels.py``) decodes them
    (:func:`knet.formats.vipseg_category`).

    There is no crowd (a thing with instance 0, e.g. 6100, is an ordinary
    instance). Every thing value is its own segment; all values of one stuff
    category share one segment (the converter paints stuff with the
    category colour, so they merge).
    """
    values = np.asarray(values, dtype=np.int64)
    cat = vipseg_category(values)
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

    ``segments``: id -> (category_id, iscrowd), from
    :func:`knet.formats.panopticapi.parse_segments_info`. An id not listed
    raises (the official scripts raise KeyError), as does a category not in
    ``categories``.
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


def segments_info_order(segments: Dict[int, Tuple[int, bool]]) -> np.ndarray:
    """The keys of ``segments`` in ``segments_info`` order: what
    :meth:`VPQAccumulator.update` needs to pick VPSNet's crowd segment."""
    return panoptic_ids_to_keys(np.array(list(segments), dtype=np.int64),
                                segments)


def keyed_table(table: FrameTable, gt_keys: Optional[KeyFn] = None,
                pred_keys: Optional[KeyFn] = None) -> FrameTable:
    """Map a table of raw values to keys (``None``: the values are keys).

    Rows that become equal are summed: several raw values can name one
    segment (void with any instance number, the values of one VIPSeg stuff
    category), and the metrics need each (gt, pred) pair once.
    """
    g, p, c = table
    if gt_keys is not None:
        g = gt_keys(g)
    if pred_keys is not None:
        p = pred_keys(p)
    if g.size > 1:
        order = np.lexsort((p, g))
        gs, ps = g[order], p[order]
        if ((gs[1:] == gs[:-1]) & (ps[1:] == ps[:-1])).any():
            return merge_tables([(g, p, c)])
    return g, p, c
