"""Panoptic label maps -> the model's training targets (pure NumPy).

Every video panoptic loader (KITTI-STEP, VIPSeg, Cityscapes-VPS, Cityscapes
panoptic) decodes its own file encoding into two maps in the dataset's own
ids and hands them to :func:`panoptic_targets`, so that "things first, then
stuff", crowd and void handling live in exactly one place.
"""
from typing import Dict, Sequence

import numpy as np

__all__ = ['panoptic_targets', 'label_lut']


def label_lut(label_ids: Sequence[int], ignore_index: int = 255,
              size: int = 65536) -> np.ndarray:
    """Look-up table dataset id -> model label (``ignore_index`` elsewhere).

    ``label_ids[i]`` is the dataset id of model label ``i`` (the datasets'
    metainfo, see :mod:`knet.formats.labels`).
    """
    lut = np.full(size, ignore_index, dtype=np.int64)
    ids = np.asarray(label_ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f'label ids must lie in [0, {size})')
    if len(set(ids.tolist())) != len(ids):
        raise ValueError('label_ids has duplicates')
    lut[ids] = np.arange(len(ids))
    return lut


def panoptic_targets(category: np.ndarray, segment: np.ndarray,
                     crowd: np.ndarray, lut: np.ndarray, num_things: int,
                     ignore_index: int = 255) -> Dict[str, np.ndarray]:
    """Build per-frame targets from decoded panoptic maps.

    Args:
        category: H x W dataset ids (any value missing from ``lut`` - e.g.
            255 - is void).
        segment: H x W int64 segment keys, unique within a video and equal
            across frames for one object (e.g. ``trainId * 10000 + inst``).
            Only read on non-crowd thing pixels.
        crowd: H x W bool, thing pixels that belong to no instance.
        lut: from :func:`label_lut`.
        num_things: model labels ``0 .. num_things - 1`` are things.

    Returns:
        ``gt_seg_map`` (H x W uint8, model labels, ``ignore_index`` on void;
        crowd keeps its thing class), ``masks`` (N x H x W uint8, things
        only, non-crowd, ascending segment key), ``labels`` (N int64),
        ``instances_ids`` (N int64, the segment keys).
    """
    category = np.asarray(category).astype(np.int64)
    segment = np.asarray(segment).astype(np.int64)
    crowd = np.asarray(crowd, dtype=bool)
    if not category.shape == segment.shape == crowd.shape:
        raise ValueError('category, segment and crowd maps differ in shape: '
                         f'{category.shape}, {segment.shape}, {crowd.shape}')
    valid = (category >= 0) & (category < lut.shape[0])
    labels = np.full(category.shape, ignore_index, dtype=np.int64)
    labels[valid] = lut[category[valid]]
    seg_map = labels.astype(np.uint8)

    is_instance = (labels < num_things) & ~crowd
    keys = np.unique(segment[is_instance])
    height, width = category.shape
    if keys.size == 0:
        return dict(gt_seg_map=seg_map,
                    masks=np.zeros((0, height, width), dtype=np.uint8),
                    labels=np.zeros((0, ), dtype=np.int64),
                    instances_ids=np.zeros((0, ), dtype=np.int64))
    # One vectorised pass: index of each instance pixel's key, -1 elsewhere.
    index = np.full(category.shape, -1, dtype=np.int64)
    index[is_instance] = np.searchsorted(keys, segment[is_instance])
    masks = (index[None] == np.arange(keys.size)[:, None, None])
    # Label of each segment: its (unique) class on the first pixel.
    flat = index.ravel()
    first = np.full(keys.size, -1, dtype=np.int64)
    order = np.flatnonzero(flat >= 0)[::-1]
    first[flat[order]] = order
    seg_labels = labels.ravel()[first]
    return dict(gt_seg_map=seg_map, masks=masks.astype(np.uint8),
                labels=seg_labels.astype(np.int64),
                instances_ids=keys.astype(np.int64))
