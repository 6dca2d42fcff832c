"""COCO mask encodings (pure NumPy + pycocotools): run-length encoding
(RLE) with ``counts`` as a list (uncompressed, as in the YouTube-VIS
release) or a string (compressed), and polygons.

Used by the YouTube-VIS, COCO, Cityscapes-VPS and REFER readers, writers,
generators and evaluators.
"""
from typing import Any, Dict, List, Optional

import numpy as np

__all__ = [
    'mask_to_rle', 'encode_rle', 'rle_to_mask', 'segmentation_to_rle',
    'mask_to_bbox'
]


def mask_to_rle(mask: np.ndarray) -> Optional[Dict]:
    """Binary H x W mask -> uncompressed COCO RLE (column-major runs that
    start with background), as in the official JSON."""
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    flat = mask.T.reshape(-1).astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0] + runs
    return dict(size=[int(h), int(w)], counts=[int(r) for r in runs])


def rle_to_mask(segmentation, height: int, width: int) -> np.ndarray:
    """Decode an RLE (compressed or not) or polygon list to a bool mask."""
    if isinstance(segmentation, dict) and \
            isinstance(segmentation.get('counts'), list):
        counts = np.asarray(segmentation['counts'], dtype=np.int64)
        h, w = segmentation['size']
        values = np.arange(len(counts)) % 2 == 1
        flat = np.repeat(values, counts)
        if flat.size != h * w:
            raise ValueError(f'RLE covers {flat.size} pixels, not {h * w}')
        return flat.reshape(w, h).T.copy()
    from pycocotools import mask as mask_utils
    if isinstance(segmentation, list):  # polygons
        rles = mask_utils.frPyObjects(segmentation, height, width)
        rle = mask_utils.merge(rles)
    else:
        rle = segmentation
    return mask_utils.decode(rle).astype(bool)


def mask_to_bbox(mask: np.ndarray) -> Optional[List[float]]:
    """Tight [x, y, w, h] of a mask (None when empty), like COCO's toBbox."""
    mask = np.asarray(mask, dtype=bool)
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if not rows.size:
        return None
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1),
            float(rows[-1] - rows[0] + 1)]


def encode_rle(mask: np.ndarray) -> dict:
    """COCO RLE of a binary H x W mask, ``counts`` as str (JSON-ready)."""
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def segmentation_to_rle(segm: Any, height: int, width: int) -> dict:
    """One compressed RLE (``counts`` as str) for any COCO segmentation.

    Accepts polygons (list of flat coordinate lists), a list of RLEs
    (compressed or uncompressed), or a single RLE dict. Several parts are
    merged into their union.
    """
    from pycocotools import mask as mask_api
    if isinstance(segm, dict):
        parts = [segm]
    elif isinstance(segm, (list, tuple)) and len(segm) > 0:
        parts = list(segm)
    else:
        raise ValueError(f'empty or unsupported segmentation: {segm!r:.80}')
    if all(isinstance(p, (list, tuple, np.ndarray)) for p in parts):
        rles = mask_api.frPyObjects([list(map(float, p)) for p in parts],
                                    height, width)
    elif all(isinstance(p, dict) for p in parts):
        rles = []
        for p in parts:
            counts = p['counts']
            if isinstance(counts, (list, tuple)):  # uncompressed RLE
                rles.append(mask_api.frPyObjects(
                    {'size': list(p['size']), 'counts': list(counts)},
                    *p['size']))
            else:  # compressed: pycocotools wants bytes
                if isinstance(counts, str):
                    counts = counts.encode('ascii')
                rles.append({'size': list(p['size']), 'counts': counts})
        for r in rles:
            if tuple(r['size']) != (height, width):
                raise ValueError(f'RLE size {list(r["size"])} does not match '
                                 f'the image ({height}, {width})')
    else:
        raise ValueError(f'unsupported segmentation: {segm!r:.80}')
    rle = mask_api.merge(rles, 0) if len(rles) > 1 else rles[0]
    counts = rle['counts']
    return {'size': [int(s) for s in rle['size']],
            'counts': counts.decode('ascii') if isinstance(counts, bytes)
            else counts}
