"""STQ / AQ / SQ: hand-computed cases and a cross-check against a literal
re-statement of deeplab2's STQuality (tests/evaluation/_reference.py)."""
import math

import numpy as np
import pytest

from knet.evaluation.functional import STQAccumulator
from knet.evaluation.functional.frames import kitti_step_table
from knet.formats import encode_kitti_step

from ._reference import stq_reference

THINGS = (11, 13)


def _table(gsem, ginst, psem, pinst):
    gt = encode_kitti_step(np.array([gsem]), np.array([ginst]))
    pred = encode_kitti_step(np.array([psem]), np.array([pinst]))
    return kitti_step_table(gt, pred)


def test_crowd_void_and_class_change():
    # pixel:      0  1  2   3   4   5   6    7
    gsem = [0, 0, 11, 11, 11, 11, 255, 255]
    ginst = [0, 0, 1, 1, 1, 0, 0, 0]  # pixel 5: person crowd
    psem = [0, 0, 11, 11, 13, 11, 11, 0]
    pinst = [0, 0, 5, 5, 9, 5, 5, 0]
    acc = STQAccumulator(19, THINGS)
    acc.update(_table(gsem, ginst, psem, pinst), 'a')
    r = acc.result()
    # SQ: road IoU 2/2; person TP 3 (crowd pixel keeps its class) of union
    # 4; car predicted once on a person pixel: IoU 0/1. GT-void rows are
    # dropped, so the road / person predicted on void are not FPs.
    assert r['SQ'] == pytest.approx((1 + 0.75 + 0) / 3)
    # AQ: one GT tube (11,1) of 3 px. Predicted tubes without the crowd
    # pixel: (11,5) = px 2,3 and 6 (on void, still counted) -> 3 px;
    # (13,9) = px 4 -> 1 px. TPA 2 and 1.
    inner = 2 * 2 / (3 + 3 - 2) + 1 * 1 / (3 + 1 - 1)
    assert r['AQ'] == pytest.approx(inner / 3)
    assert r['AQ'] == pytest.approx(4 / 9)
    assert r['STQ'] == pytest.approx(math.sqrt(4 / 9 * 7 / 12))
    assert r['per_sequence']['a']['tubes'] == 1


def test_id_switch_and_predicted_void():
    acc = STQAccumulator(19, THINGS)
    # frame 0: car 1 on px 0,1, road on 2,3; predicted void on px 3
    acc.update(_table([13, 13, 0, 0], [1, 1, 0, 0], [13, 13, 0, 255],
                      [1, 1, 0, 0]), 0)
    # frame 1: the car's predicted track id switches from 1 to 2
    acc.update(_table([13, 13, 0, 0], [1, 1, 0, 0], [13, 13, 0, 0],
                      [2, 2, 0, 0]), 0)
    r = acc.result()
    # road 3/4, car 4/4, predicted void is an extra class with IoU 0
    assert r['SQ'] == pytest.approx((0.75 + 1.0 + 0.0) / 3)
    assert r['predicted_void_union'] == 1
    # GT tube of 4 px split in two predicted tubes of 2 px each
    assert r['AQ'] == pytest.approx((2 * 2 / 4 + 2 * 2 / 4) / 4)
    assert r['STQ'] == pytest.approx(math.sqrt(0.5 * 0.75 * 7 / 9))
    assert r['per_sequence'][0]['length'] == 2


def test_aq_weights_sequences_by_tubes_and_merge():
    a = STQAccumulator(19, THINGS)
    # sequence A: one tube, perfectly tracked -> AQ 1
    a.update(_table([13, 13, 0], [4, 4, 0], [13, 13, 0], [7, 7, 0]), 'A')
    b = STQAccumulator(19, THINGS)
    # sequence B: three tubes, all predicted as road -> AQ 0
    b.update(_table([11, 13, 13], [1, 2, 3], [0, 0, 0], [0, 0, 0]), 'B')
    r = a.merge(b).result()
    assert r['per_sequence']['A']['AQ'] == pytest.approx(1.0)
    assert r['per_sequence']['B']['AQ'] == 0.0
    assert r['AQ'] == pytest.approx(1 / 4)


def test_state_round_trip_and_split_sequence():
    rng = np.random.default_rng(1)
    frames = []
    for t in range(4):
        gs = rng.choice([0, 11, 13, 255], 30)
        gi = np.where(np.isin(gs, THINGS), rng.integers(0, 3, 30), 0)
        ps = rng.choice([0, 11, 13, 255], 30)
        pi = np.where(np.isin(ps, THINGS), rng.integers(0, 3, 30), 0)
        frames.append(_table(gs, gi, ps, pi))
    whole = STQAccumulator(19, THINGS)
    for f in frames:
        whole.update(f, 's')
    part1, part2 = STQAccumulator(19, THINGS), STQAccumulator(19, THINGS)
    for f in frames[:2]:
        part1.update(f, 's')
    for f in frames[2:]:
        part2.update(f, 's')
    merged = STQAccumulator.from_state_dict(part1.state_dict(), 19, THINGS)
    merged.merge(STQAccumulator.from_state_dict(part2.state_dict(), 19,
                                                THINGS))
    assert merged.result()['STQ'] == pytest.approx(whole.result()['STQ'])
    assert merged.result()['AQ'] == pytest.approx(whole.result()['AQ'])


def test_all_void_is_undefined_not_nan():
    acc = STQAccumulator(19, THINGS)
    acc.update(_table([255, 255], [0, 0], [255, 255], [0, 0]), 0)
    r = acc.result()
    assert r['SQ'] is None and r['STQ'] is None and r['AQ'] == 0.0


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_literal_reference(seed):
    rng = np.random.default_rng(seed)
    acc = STQAccumulator(19, THINGS)
    frames = []
    for seq in range(2):
        for t in range(3):
            shape = (6, 7)
            gs = rng.choice([0, 1, 5, 11, 13, 255], shape)
            gi = np.where(np.isin(gs, THINGS), rng.integers(0, 4, shape), 0)
            ps = rng.choice([0, 1, 11, 13, 255], shape)
            pi = np.where(np.isin(ps, THINGS), rng.integers(0, 5, shape), 0)
            acc.update(kitti_step_table(encode_kitti_step(gs, gi),
                                        encode_kitti_step(ps, pi)), seq)
            frames.append((seq, gs * 1000 + gi, ps * 1000 + pi))
    ref = stq_reference(frames, 19, THINGS)
    r = acc.result()
    for k in ('STQ', 'AQ', 'SQ'):
        assert r[k] == pytest.approx(ref[k], rel=1e-12)
