"""Overlap tables and keys against a plain np.unique computation, on
images large enough for the subsampled fast path (including segments of a
single pixel that the subsample misses), and mIoU by hand."""
import numpy as np
import pytest

from knet.evaluation.functional import (MIoUAccumulator, key_category,
                                        key_crowd, make_keys, pair_table)
from knet.evaluation.functional.frames import kitti_step_table
from knet.formats import encode_kitti_step


def _naive(g, p):
    pairs, counts = np.unique(np.stack([g.ravel(), p.ravel()]), axis=1,
                              return_counts=True)
    return {(int(a), int(b)): int(c) for (a, b), c in zip(pairs.T, counts)}


def _as_dict(t):
    return {(int(a), int(b)): int(c) for a, b, c in zip(*t)}


@pytest.mark.parametrize('dtype,top,n_values', [
    (np.uint16, 65535, 12), (np.uint16, 65535, 240), (np.int32, 200000, 30),
    (np.uint32, 3000, 300), (np.int64, 2**40, 5)])
def test_pair_table_matches_unique(dtype, top, n_values):
    rng = np.random.default_rng(n_values)
    vals = rng.choice(top, n_values, replace=False).astype(dtype)
    g = vals[rng.integers(0, 3, (96, 128))]  # mostly three big values
    p = vals[rng.integers(0, 4, (96, 128))]
    # single pixels of every other value (missed by a 1/16 subsample)
    ys, xs = rng.integers(0, 96, n_values), rng.integers(0, 128, n_values)
    g[ys, xs] = vals
    p[ys[::-1], xs] = vals
    assert _as_dict(pair_table(g, p)) == _naive(g, p)


def test_kitti_table_both_code_widths():
    rng = np.random.default_rng(0)
    sem = rng.choice([0, 8, 11, 13, 255], (80, 100)).astype(np.uint8)
    for inst_top in (200, 5000):  # G = 0 and G > 0
        inst = np.where(np.isin(sem, (11, 13)),
                        rng.integers(0, inst_top, sem.shape), 0)
        psem = sem.copy()
        psem[:10] = 0
        t = kitti_step_table(encode_kitti_step(sem, inst),
                             encode_kitti_step(psem, inst))
        got = {}
        for gk, pk, c in zip(*t):
            got[(int(gk), int(pk))] = int(c)
        void = sem == 255
        crowd = np.isin(sem, (11, 13)) & (inst == 0)
        gk = make_keys(np.where(void, 0, sem), inst, crowd=crowd, void=void)
        pk = make_keys(psem, inst, void=psem == 255)
        assert got == _naive(gk, pk)


def test_keys_round_trip():
    k = make_keys([0, 5, 123], [0, 7, 2**24 - 1], crowd=[False, True, False])
    assert key_category(k).tolist() == [0, 5, 123]
    assert key_crowd(k).tolist() == [False, True, False]
    assert key_category(np.array([0])).tolist() == [-1]  # void key


def test_miou_by_hand():
    acc = MIoUAccumulator(3, ignore_index=255)
    acc.update(np.array([0, 0, 1, 1, 255]), np.array([0, 1, 1, 1, 2]))
    r = acc.result()
    # class 0: 1 / 2; class 1: 2 / 3; class 2: absent (prediction on
    # ignore does not count) -> left out of the mean
    assert r['IoU_per_class'] == [0.5, pytest.approx(2 / 3), None]
    assert r['mIoU'] == pytest.approx((0.5 + 2 / 3) / 2)
