"""panopticapi RGB segment ids (id = R + 256 * G + 256^2 * B) and the
``segments_info`` list of a panopticapi annotation."""
from typing import Dict, Iterable, Mapping, Tuple

import numpy as np

__all__ = ['rgb2id', 'id2rgb', 'parse_segments_info']


def rgb2id(rgb: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 -> H x W int64 segment ids."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected an HxWx3 RGB map, got shape {rgb.shape}')
    rgb = rgb.astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def id2rgb(ids: np.ndarray) -> np.ndarray:
    """H x W integer segment ids (< 256^3) -> H x W x 3 uint8."""
    ids = np.asarray(ids).astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= 256**3):
        raise ValueError('panopticapi segment ids must lie in [0, 256^3)')
    rgb = np.empty(ids.shape + (3, ), dtype=np.uint8)
    rgb[..., 0] = ids % 256
    rgb[..., 1] = (ids // 256) % 256
    rgb[..., 2] = ids // (256 * 256)
    return rgb


def parse_segments_info(
        segments_info: Iterable[Mapping]) -> Dict[int, Tuple[int, bool]]:
    """``segments_info`` -> {segment id: (category_id, iscrowd)}, in list
    order (the order decides VPSNet's crowd segment, see
    :mod:`knet.evaluation.functional.vpq`). ``iscrowd`` defaults to 0.
    Raises ValueError('malformed segments_info') on a missing or
    non-integer field."""
    try:
        return {int(s['id']): (int(s['category_id']),
                               bool(s.get('iscrowd', 0)))
                for s in segments_info}
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ValueError('malformed segments_info') from None
