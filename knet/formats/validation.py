"""Checks at the boundary of every reader: types, required keys, duplicates,
ranges, mask encodings and sizes, each failure one :class:`DataError` that
names the file and the first offending entry (``videos[3].height: ...``).

:class:`Validator` binds a file name; the format modules
(:mod:`knet.formats.youtube_vis`, :mod:`knet.formats.coco_panoptic`, ...)
describe their JSON schemas with it. :func:`rle_counts_valid` checks COCO
RLE ``counts`` (compressed strings, vectorised over many masks, or plain
lists) without pycocotools: an invalid string decodes to a negative run
that pycocotools stores as a count near 2**32, after which its evaluators
loop for minutes.
"""
import math
from numbers import Integral, Real
from typing import (Any, Dict, Hashable, Iterable, List, Optional, Sequence,
                    Tuple)

import numpy as np

from .io import DataError

__all__ = ['Validator', 'rle_counts_valid']


class Validator:
    """Type and range checks that raise :class:`DataError` naming ``path``
    and the location of the entry (``where``, e.g. ``annotations[3].bbox``).
    """

    def __init__(self, path: Any) -> None:
        self.path = str(path)

    # ---------------------------------------------------------------- basics
    def fail(self, where: str, message: str) -> DataError:
        """The error to raise (``raise v.fail(...)``)."""
        return DataError(f'{self.path}: {where}: {message}' if where else
                         f'{self.path}: {message}')

    @staticmethod
    def _show(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + '...'

    def mapping(self, obj: Any, where: str = '',
             keys: Sequence[str] = ()) -> dict:
        """``obj`` must be a JSON object holding every key of ``keys``."""
        if not isinstance(obj, dict):
            raise self.fail(where, f'expected an object, got '
                            f'{_type_name(obj)}')
        for key in keys:
            if key not in obj:
                raise self.fail(where, f'missing key {key!r}')
        return obj

    def array(self, obj: Any, where: str = '', min_len: int = 0,
             length: Optional[int] = None) -> list:
        """``obj`` must be a JSON array (of ``length`` items if given)."""
        if not isinstance(obj, list):
            raise self.fail(where, f'expected a list, got {_type_name(obj)}')
        if length is not None and len(obj) != length:
            raise self.fail(where, f'has {len(obj)} items, expected '
                            f'{length}')
        if len(obj) < min_len:
            raise self.fail(where, 'is empty' if not obj else
                            f'has {len(obj)} items, expected at least '
                            f'{min_len}')
        return obj

    def integer(self, obj: Any, where: str, lo: Optional[int] = None,
            hi: Optional[int] = None) -> int:
        """An integer (not a bool, not a float such as 3.0 or 3.5)."""
        if isinstance(obj, bool) or not isinstance(obj, Integral):
            raise self.fail(where, f'expected an integer, got '
                            f'{self._show(obj)}')
        self._range(int(obj), where, lo, hi)
        return int(obj)

    def number(self, obj: Any, where: str, lo: Optional[float] = None,
               hi: Optional[float] = None) -> float:
        """A finite number (int or float, not a bool)."""
        if isinstance(obj, bool) or not isinstance(obj, Real) or \
                not math.isfinite(obj):
            raise self.fail(where, f'expected a finite number, got '
                            f'{self._show(obj)}')
        self._range(obj, where, lo, hi)
        return float(obj)

    def string(self, obj: Any, where: str, nonempty: bool = True) -> str:
        if not isinstance(obj, str):
            raise self.fail(where, f'expected a string, got '
                            f'{self._show(obj)}')
        if nonempty and not obj:
            raise self.fail(where, 'is an empty string')
        return obj

    def _range(self, value, where: str, lo, hi) -> None:
        if lo is not None and value < lo:
            raise self.fail(where, f'{value} is below the minimum {lo}')
        if hi is not None and value > hi:
            raise self.fail(where, f'{value} is above the maximum {hi}')

    def one_of(self, obj: Any, where: str, allowed: Iterable) -> Any:
        allowed = list(allowed)
        if isinstance(obj, bool) or obj not in allowed:
            raise self.fail(where, f'{self._show(obj)} is not one of '
                            f'{", ".join(map(str, allowed))}')
        return obj

    def unique(self, items: Sequence[dict], key: str, where: str,
               kind: str = 'int', lo: Optional[int] = None
               ) -> Dict[Hashable, int]:
        """{value of ``key``: position} for a list of objects; each value
        must have the type ``kind`` ('int' or 'str') and occur once."""
        seen: Dict[Hashable, int] = {}
        for i, item in enumerate(items):
            at = f'{where}[{i}]'
            self.mapping(item, at, (key,))
            value = self.integer(item[key], f'{at}.{key}', lo=lo) \
                if kind == 'int' else self.string(item[key], f'{at}.{key}')
            if value in seen:
                raise self.fail(f'{at}.{key}', f'duplicate {key} {value!r} '
                                f'(also {where}[{seen[value]}])')
            seen[value] = i
        return seen

    def known(self, value: Any, known: Any, where: str, what: str) -> Any:
        """``value`` must be a key of ``known`` (ids defined elsewhere)."""
        if isinstance(value, bool) or not isinstance(value, Hashable) or \
                value not in known:
            raise self.fail(where, f'unknown {what} {self._show(value)}')
        return value

    # ----------------------------------------------------------- geometry
    def bbox(self, obj: Any, where: str) -> List[float]:
        """[x, y, w, h]: four finite numbers, w and h >= 0."""
        if not isinstance(obj, list) or len(obj) != 4:
            raise self.fail(where, f'bbox must be [x, y, w, h], got '
                            f'{self._show(obj)}')
        box = obj
        values = [self.number(v, f'{where}[{k}]') for k, v in
                  enumerate(box)]
        if values[2] < 0 or values[3] < 0:
            raise self.fail(where, f'negative width or height {box}')
        return values

    def polygons(self, obj: Any, where: str) -> list:
        """COCO polygons: a non-empty list of flat [x1, y1, x2, y2, ...]
        lists of at least three points."""
        polys = self.array(obj, where, min_len=1)
        for k, poly in enumerate(polys):
            at = f'{where}[{k}]'
            self.array(poly, at, min_len=6)
            if len(poly) % 2:
                raise self.fail(at, f'odd number of coordinates '
                                f'({len(poly)})')
            for j, c in enumerate(poly):
                if isinstance(c, bool) or not isinstance(c, Real) or \
                        not math.isfinite(c):
                    raise self.fail(f'{at}[{j}]', f'expected a finite '
                                    f'number, got {self._show(c)}')
        return polys

    def rle(self, obj: Any, where: str, height: Optional[int] = None,
            width: Optional[int] = None, check_counts: bool = True) -> dict:
        """A COCO RLE ``{"size": [h, w], "counts": ...}`` of the given size
        whose counts cover exactly h * w pixels (compressed string or list);
        ``check_counts=False`` leaves the counts to a later batch check
        (:meth:`rles`)."""
        self.mapping(obj, where, ('size', 'counts'))
        size = self.array(obj['size'], f'{where}.size', length=2)
        h = self.integer(size[0], f'{where}.size[0]', lo=0)
        w = self.integer(size[1], f'{where}.size[1]', lo=0)
        if height is not None and (h, w) != (height, width):
            raise self.fail(f'{where}.size', f'mask is {h}x{w} (h x w), '
                            f'the frame {height}x{width}')
        counts = obj['counts']
        if not isinstance(counts, (str, bytes, list)):
            raise self.fail(f'{where}.counts', 'expected a string or a list '
                            f'of integers, got {_type_name(counts)}')
        if check_counts and not rle_counts_valid([counts], [h * w])[0]:
            raise self.fail(f'{where}.counts', self._counts_error(counts,
                                                                  h, w))
        return obj

    def rles(self, items: Sequence[Tuple[str, dict]]) -> None:
        """Check the counts of many RLEs at once (vectorised); items are
        (where, rle) pairs whose ``size`` was already checked by
        :meth:`rle`."""
        if not items:
            return
        counts = [rle['counts'] for _, rle in items]
        totals = [int(rle['size'][0]) * int(rle['size'][1])
                  for _, rle in items]
        ok = rle_counts_valid(counts, totals)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            where, rle = items[i]
            h, w = rle['size']
            raise self.fail(f'{where}.counts',
                            self._counts_error(rle['counts'], h, w))

    @staticmethod
    def _counts_error(counts, h: int, w: int) -> str:
        kind = 'list' if isinstance(counts, list) else 'compressed string'
        return (f'invalid RLE counts ({kind}): the runs must be integers '
                f'>= 0 that add up to {h} x {w} = {h * w} pixels')

    def segmentation(self, obj: Any, where: str, height: int, width: int,
                     check_counts: bool = True) -> Any:
        """An RLE of the frame's size, or polygons."""
        if isinstance(obj, dict):
            return self.rle(obj, where, height, width, check_counts)
        if isinstance(obj, list):
            return self.polygons(obj, where)
        raise self.fail(where, f'expected an RLE object or polygons, got '
                        f'{_type_name(obj)}')


def _type_name(obj: Any) -> str:
    if obj is None:
        return 'null'
    return {dict: 'an object', list: 'a list', str: 'a string',
            bool: 'a boolean', int: 'an integer', float: 'a number'}.get(
                type(obj), type(obj).__name__)


# --------------------------------------------------------------------------
# RLE counts
# --------------------------------------------------------------------------
def _list_counts_valid(counts: list, total: int) -> bool:
    if not all(type(c) is int for c in counts):
        return False
    return (not counts or min(counts) >= 0) and sum(counts) == total


def _segmented_cumsum(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``values`` restarting where ``owner`` changes."""
    csum = np.cumsum(values)
    first = np.concatenate([[True], owner[1:] != owner[:-1]])
    segment = np.cumsum(first) - 1
    return csum - (csum - values)[np.flatnonzero(first)][segment]


def rle_counts_valid(counts: Sequence[Any],
                     totals: Sequence[int]) -> np.ndarray:
    """For each RLE ``counts`` (a compressed string as pycocotools writes
    it, bytes, or a list of ints): whether its runs are all >= 0 and add up
    to ``totals[i]`` pixels.

    Compressed strings are decoded together in NumPy, as pycocotools'
    ``rleFrString`` does: a run is a group of characters (value - 48), each
    carrying 5 bits and a continuation bit (0x20), the last one a sign bit
    (0x10); from the fourth run on, the run two places back is added.
    """
    ok = np.zeros(len(counts), bool)
    strings, owners = [], []
    for i, (c, total) in enumerate(zip(counts, totals)):
        if isinstance(c, list):
            ok[i] = _list_counts_valid(c, int(total))
        elif isinstance(c, (str, bytes)):
            if isinstance(c, str):
                if not c.isascii():
                    continue
                c = c.encode('ascii')
            strings.append(c)
            owners.append(i)
    if not strings:
        return ok
    n = len(strings)
    lengths = np.array([len(s) for s in strings], np.int64)
    totals_s = np.array([int(totals[i]) for i in owners], np.int64)
    valid = lengths > 0
    valid[lengths == 0] = totals_s[lengths == 0] == 0  # no run: no pixel
    buf = np.frombuffer(b''.join(strings), np.uint8).astype(np.int64)
    if buf.size:
        string_of = np.repeat(np.arange(n), lengths)
        ends = np.cumsum(lengths)[lengths > 0] - 1
        bad = (buf < 48) | (buf > 111)  # characters '0'..'o' only
        c = np.clip(buf - 48, 0, 63)
        group_end = (c & 0x20) == 0
        bad[ends[~group_end[ends]]] = True  # a string ends inside a run
        group_end[ends] = True  # runs never span two strings
        group = np.cumsum(group_end) - group_end
        starts = np.flatnonzero(np.concatenate([[True], group_end[:-1]]))
        k = np.arange(buf.size) - starts[group]
        bad |= k >= 7  # more than 35 bits overflow pycocotools' long
        x = np.bincount(group, weights=((c & 0x1F) << (5 * np.minimum(
            k, 6))).astype(np.float64)).astype(np.int64)
        last = np.flatnonzero(group_end)
        negative = (c[last] & 0x10) != 0
        x[negative] -= np.int64(1) << (5 * (k[last[negative]] + 1))
        owner = string_of[last]
        first = np.concatenate([[True], owner[1:] != owner[:-1]])
        m = np.arange(len(x)) - np.flatnonzero(first)[np.cumsum(first) - 1]
        runs = x.copy()
        for chain in ((m % 2 == 1), (m >= 2) & (m % 2 == 0)):
            idx = np.flatnonzero(chain)
            if idx.size:
                runs[idx] = _segmented_cumsum(x[idx], owner[idx])
        valid[np.unique(string_of[bad])] = False
        valid[np.unique(owner[runs < 0])] = False
        sums = np.bincount(owner, weights=runs.astype(np.float64),
                           minlength=n)
        has_runs = lengths > 0
        valid[has_runs] &= sums[has_runs] == totals_s[has_runs]
    ok[np.array(owners)] = valid
    return ok
