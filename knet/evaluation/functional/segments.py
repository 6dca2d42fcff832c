"""Segment keys and per-frame (ground truth, prediction) overlap tables.

Every metric here works on the same small object: for one frame, the
list of (gt segment, predicted segment, pixel count) triples with a non-zero
count (a sparse confusion table). It is built once per frame with a couple of
``bincount`` passes and then serves STQ, VPQ and PQ, so the pixels are looked
at once whatever the number of windows.

A segment is named by an int64 *key* that carries its category and crowd
flag, so that the metrics can classify keys without a lookup table::

    key = (category + 1) << 25 | crowd << 24 | local_id      (local_id < 2**24)
    key = 0                                                  void / no segment

``local_id`` tells segments of the same category apart (a track id, a
panopticapi segment id, ...). Keys are equal across frames for the same
segment, which is what makes tubes.
"""
from typing import Optional, Tuple

import numpy as np

__all__ = [
    'VOID_KEY', 'make_keys', 'key_category', 'key_crowd', 'compact',
    'pair_table', 'pair_table_known', 'merge_tables', 'FrameTable',
    'UnknownIdError'
]

VOID_KEY = 0
_CAT_SHIFT = 25
_CROWD_BIT = 1 << 24
_LOCAL_MASK = (1 << 24) - 1
#: largest value compacted with bincount instead of a sort.
_BINCOUNT_MAX = 1 << 22

#: (gt keys, predicted keys, counts), 1-D arrays of equal length.
FrameTable = Tuple[np.ndarray, np.ndarray, np.ndarray]


def make_keys(category, local_id, crowd=None, void=None) -> np.ndarray:
    """Vectorised key construction (see the module docstring)."""
    category = np.asarray(category, dtype=np.int64)
    local_id = np.asarray(local_id, dtype=np.int64)
    if local_id.size and (local_id.min() < 0 or local_id.max() > _LOCAL_MASK):
        raise ValueError('segment ids must lie in [0, 2**24)')
    keys = ((category + 1) << _CAT_SHIFT) | local_id
    if crowd is not None:
        keys = keys | (np.asarray(crowd, dtype=bool).astype(np.int64)
                       * _CROWD_BIT)
    if void is not None:
        keys = np.where(np.asarray(void, dtype=bool), VOID_KEY, keys)
    return keys


def key_category(keys: np.ndarray) -> np.ndarray:
    """Category of each key; -1 for the void key."""
    return (np.asarray(keys, dtype=np.int64) >> _CAT_SHIFT) - 1


def key_crowd(keys: np.ndarray) -> np.ndarray:
    """Crowd flag of each key."""
    return (np.asarray(keys, dtype=np.int64) & _CROWD_BIT) != 0


def compact(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of a non-negative integer array, the index of each
    element into them and their counts (like ``np.unique(return_inverse=True,
    return_counts=True)`` but a ``bincount`` and a lookup table when the values
    are small, which is several times faster on image-sized arrays)."""
    x = np.ravel(x)
    if x.size == 0:
        return (np.zeros(0, np.int64), np.zeros(0, np.intp),
                np.zeros(0, np.int64))
    if x.dtype in (np.uint8, np.uint16):
        top = np.iinfo(x.dtype).max  # no pass over the data for the range
    else:
        top = int(x.max())
    if x.dtype.kind in 'ui' and top < _BINCOUNT_MAX and \
            (x.dtype.kind == 'u' or int(x.min()) >= 0):
        counts = np.bincount(x, minlength=top + 1)
        values = np.flatnonzero(counts)
        # narrow indices: less memory traffic in the passes that follow
        dtype = np.uint8 if values.size <= 256 else np.int32
        lut = np.zeros(counts.size, dtype=dtype)
        lut[values] = np.arange(values.size, dtype=dtype)
        return values.astype(np.int64), lut[x], counts[values]
    values, inverse, counts = np.unique(x, return_inverse=True,
                                        return_counts=True)
    return values.astype(np.int64), inverse.ravel(), counts


def _compact_index(x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(distinct values, index of each element into them) -- like
    :func:`compact` without the counts, and cheaper for the usual label
    image: the distinct values are found on a 1/16 subsample and the pixels
    the subsample missed (small segments) are added afterwards, so the full
    image is only gathered through a uint8 lookup table. Exact."""
    x = np.ravel(x)
    if x.size < 4096 or x.dtype.kind not in 'ui':
        return compact(x)[:2]
    top = 65535 if x.dtype == np.uint16 else int(x.max())
    if top >= _BINCOUNT_MAX or (x.dtype.kind == 'i' and int(x.min()) < 0):
        return compact(x)[:2]
    values = np.flatnonzero(np.bincount(x[::16], minlength=top + 1))
    if values.size > 200:
        return compact(x)[:2]
    lut = np.full(top + 1, 255, dtype=np.uint8)
    lut[values] = np.arange(values.size, dtype=np.uint8)
    idx = lut[x]
    missed = np.flatnonzero(idx == 255)
    if missed.size:
        extra = np.unique(x[missed])
        if values.size + extra.size > 255:
            return compact(x)[:2]
        lut[extra] = np.arange(values.size, values.size + extra.size,
                               dtype=np.uint8)
        idx[missed] = lut[x[missed]]
        values = np.concatenate([values, extra])
    return values.astype(np.int64), idx


def pair_table(gt: np.ndarray, pred: np.ndarray) -> FrameTable:
    """Sparse overlap table of two equally shaped integer id maps.

    Returns (gt values, predicted values, pixel counts) for every pair that
    co-occurs at least once. The values are whatever the maps hold (raw ids
    or keys); map them to keys afterwards on these short arrays.
    """
    if gt.shape != pred.shape:
        raise ValueError(f'shape mismatch: {gt.shape} vs {pred.shape}')
    gv, gi = _compact_index(gt)
    pred = np.ravel(pred)
    p_top = int(pred.max()) + 1 if pred.size else 1
    if pred.dtype.kind in 'ui' and int(pred.min() if pred.size else 0) >= 0 \
            and gv.size * p_top <= 65536:
        # Small predicted codes: pair them with the compacted GT directly.
        code = gi * np.int32(p_top) + pred if gv.size * p_top < 2**31 \
            else gi.astype(np.int64) * p_top + pred
        counts = np.bincount(code, minlength=gv.size * p_top)
        nz = np.flatnonzero(counts)
        return (gv[nz // p_top], (nz % p_top).astype(np.int64),
                counts[nz].astype(np.int64))
    pv, pi = _compact_index(pred)
    n_p = max(pv.size, 1)
    n = gv.size * n_p
    dtype = np.uint16 if n <= 65536 else np.int32 if n < 2**31 else \
        np.int64
    code = gi.astype(dtype) * dtype(n_p)
    code += pi.astype(dtype, copy=False)
    counts = np.bincount(code, minlength=n)
    nz = np.flatnonzero(counts)
    return gv[nz // n_p], pv[nz % n_p], counts[nz].astype(np.int64)


def merge_tables(tables) -> FrameTable:
    """Sum several tables over equal (gt, pred) pairs."""
    g = np.concatenate([t[0] for t in tables])
    p = np.concatenate([t[1] for t in tables])
    c = np.concatenate([t[2] for t in tables])
    if g.size == 0:
        return g, p, c
    gv, gi = np.unique(g, return_inverse=True)
    pv, pi = np.unique(p, return_inverse=True)
    code = gi.ravel().astype(np.int64) * pv.size + pi.ravel()
    cv, ci = np.unique(code, return_inverse=True)
    counts = np.bincount(ci.ravel(), weights=c, minlength=cv.size)
    return gv[cv // pv.size], pv[cv % pv.size], counts.astype(np.int64)


class UnknownIdError(ValueError):
    """An id in a map that its segment list does not name."""

    def __init__(self, side: str, value: int):
        super().__init__(f'{side} segment id {value} is not listed')
        self.side = side
        self.value = value


def _index_known(x: np.ndarray, known: np.ndarray, side: str) -> np.ndarray:
    idx = np.searchsorted(known, x)
    np.minimum(idx, known.size - 1, out=idx)
    bad = known[idx] != x
    if bad.any():
        raise UnknownIdError(side, int(x[np.argmax(bad)]))
    return idx


def pair_table_known(gt: np.ndarray, gt_known: Optional[np.ndarray],
                     pred: np.ndarray, pred_known: np.ndarray) -> FrameTable:
    """:func:`pair_table` for large ids (panopticapi RGB ids) whose possible
    values are listed (``segments_info`` plus 0): a binary search instead of
    a sort. ``gt_known=None``: compact the ground truth by its values (small
    raw ids such as VIPSeg panomasks). Raises :class:`UnknownIdError` for an
    unlisted id."""
    if gt.shape != pred.shape:
        raise ValueError(f'shape mismatch: {gt.shape} vs {pred.shape}')
    pk = np.unique(np.append(np.asarray(pred_known, np.int64), 0))
    if gt_known is None:
        gk, gi, _ = compact(gt)
    else:
        gk = np.unique(np.append(np.asarray(gt_known, np.int64), 0))
        gi = _index_known(np.ravel(gt), gk, 'ground-truth')
    pi = _index_known(np.ravel(pred), pk, 'predicted')
    code = gi * pk.size + pi
    counts = np.bincount(code, minlength=gk.size * pk.size)
    nz = np.flatnonzero(counts)
    return gk[nz // pk.size], pk[nz % pk.size], counts[nz].astype(np.int64)
