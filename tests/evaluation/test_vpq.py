"""VPQ over windows: hand-computed cases (IoU exactly 0.5, void, crowd,
tubes across windows, a track missing in some frames) and cross-checks
against literal re-statements of VPSNet's eval_vpq.py and Video K-Net's
eval_dvpq_step.py (tests/evaluation/_reference.py)."""
import numpy as np
import pytest

from knet.evaluation.functional import (PQAccumulator, VPQAccumulator,
                                        make_keys, pair_table, window_stats)
from knet.evaluation.functional.frames import kitti_step_table
from knet.formats import encode_kitti_step

from ._reference import (pq_average_reference, vpq_vipdeeplab_reference,
                         vpq_vpsnet_reference)


def K(cat, sid, crowd=False):
    return int(make_keys(cat, sid, crowd=crowd))


def table(gt, pred):
    return pair_table(np.array(gt, np.int64), np.array(pred, np.int64))


def test_iou_exactly_half_is_not_a_match():
    a, p = K(1, 1), K(1, 9)
    # GT segment of 4 px, prediction covers 2 of them and nothing else:
    # IoU = 2 / (2 + 4 - 2) = 0.5 -> FN and FP, PQ 0.
    s = window_stats(table([a, a, a, a], [p, p, 0, 0]), 3)
    assert s[1].tolist() == [0, 1, 1, 0]
    # one more predicted pixel on the segment: 3 / 4 -> TP
    s = window_stats(table([a, a, a, a], [p, p, p, 0]), 3)
    assert s[1].tolist() == [1, 0, 0, 0.75]


def test_void_overlap_leaves_the_union():
    a, p = K(1, 1), K(1, 9)
    # pred: 3 px on the GT segment (4 px) + 2 px on void:
    # IoU = 3 / (5 + 4 - 3 - 2) = 0.75
    s = window_stats(table([a, a, a, a, 0, 0], [p, p, p, 0, p, p]), 3)
    assert s[1].tolist() == [1, 0, 0, 0.75]
    # a prediction mostly on void is not a false positive
    q = K(2, 5)
    s = window_stats(table([a, 0, 0, 0], [q, q, q, q]), 3)
    assert s[2].tolist() == [0, 0, 0, 0] and s[1].tolist() == [0, 0, 1, 0]
    # ... exactly half on void is one
    s = window_stats(table([a, a, 0, 0], [q, q, q, q]), 3)
    assert s[2].tolist() == [0, 1, 0, 0]


def test_crowd_rules_by_convention():
    crowd, b = K(2, 0, crowd=True), K(0, 1)
    p_same, p_other = K(2, 7), K(1, 7)
    # prediction of the crowd's class, 3 of 4 px on the crowd: ignored
    t = table([crowd, crowd, crowd, b], [p_same] * 4)
    s = window_stats(t, 3, 'vpsnet')
    assert s[:, :3].sum() == 1 and s[0, 2] == 1  # only the stuff FN
    # a different class on the same pixels is a FP
    t2 = table([crowd, crowd, crowd, b], [p_other] * 4)
    assert window_stats(t2, 3, 'vpsnet')[1, 1] == 1
    # vip-deeplab: crowd is an ordinary segment -> matched (IoU 3/4)
    s = window_stats(t, 3, 'vip-deeplab')
    assert s[2].tolist() == [1, 0, 0, 0.75]


def _video(gt_frames, pred_frames, windows, convention='vpsnet', ncat=3):
    acc = VPQAccumulator(ncat, windows, convention)
    for g, p in zip(gt_frames, pred_frames):
        acc.update(table(g, p), 'v')
    return acc


def test_tubes_across_windows_with_id_switch():
    car, road = K(1, 1), K(0, 0)
    t1, t2, r = K(1, 11), K(1, 12), K(0, 0)
    gt = [[car, car, road, road]] * 3
    # the predicted track switches id in the last frame
    pred = [[t1, t1, r, r], [t1, t1, r, r], [t2, t2, r, r]]
    acc = _video(gt, pred, (1, 2, 3))
    st = acc.stats.stats
    # n = 1: three frames, everything matched with IoU 1
    assert st[0, 1].tolist() == [3, 0, 0, 3.0]
    # n = 2: (0,1) matched; (1,2): t1 covers 2 of 4 car px with nothing
    # else -> IoU 2 / (2 + 4 - 2) = 0.5, not a match; same for t2.
    assert st[1, 1].tolist() == [1, 2, 1, 1.0]
    # n = 3: t1 = 4 of 6 -> IoU 4/6 matched, t2 FP
    assert st[2, 1].tolist() == pytest.approx([1, 1, 0, 4 / 6])
    assert acc.stats.count.tolist() == [3, 2, 1]
    res = acc.result([1], [0], warn=False)
    pq2 = (1.0 / (1 + 1 + 0.5) + 2.0 / 2) / 2  # car and road, n = 2
    assert res['VPQ_per_window']['2'] == pytest.approx(100 * pq2)
    pq1 = 100.0
    pq3 = ((4 / 6) / (1 + 0.5) + 1.0) / 2 * 100
    assert res['VPQ'] == pytest.approx((pq1 + 100 * pq2 + pq3) / 3)


def test_track_missing_in_some_frames():
    car, road = K(1, 1), K(0, 0)
    t, r = K(1, 5), K(0, 0)
    # the car leaves in frame 1 and comes back in frame 2
    gt = [[car, car, road], [road, road, road], [car, car, road]]
    # the prediction misses the car in frame 2
    pred = [[t, t, r], [r, r, r], [r, r, r]]
    acc = _video(gt, pred, (1, 2, 3))
    st = acc.stats.stats
    assert st[0, 1].tolist() == [1, 0, 1, 1.0]  # frames 0 and 2
    # n=2: (0,1) car TP (2/2); (1,2) car FN
    assert st[1, 1].tolist() == [1, 0, 1, 1.0]
    # n=3: car tube 4 px, t covers 2 -> IoU 0.5: FN + FP
    assert st[2, 1].tolist() == [0, 1, 1, 0.0]


def test_no_video_long_enough_gives_none():
    a = K(1, 1)
    acc = _video([[a, a]], [[a, a]], (1, 4))
    with pytest.warns(UserWarning) as record:
        res = acc.result([1], [0])
    messages = [str(w.message) for w in record]
    assert 'window 4: no video is long enough' in messages
    assert 'window 1: no stuff category has a segment' in messages
    assert res['VPQ_per_window'] == {'1': 100.0, '4': None}
    assert res['VPQ'] == 100.0
    assert res['VPQ_stuff_per_window']['1'] is None  # no stuff segment


def test_image_pq_is_window_of_one():
    a, b = K(1, 1), K(0, 0)
    pq = PQAccumulator(3)
    pq.update(table([a, a, b, b], [a, a, a, b]))
    r = pq.result([1], [0])
    # thing: 2/3 IoU -> TP; stuff 1/2 -> IoU 0.5: FN + FP
    assert r['Things']['pq'] == pytest.approx(100 * 2 / 3)
    assert r['Stuff']['pq'] == 0.0
    assert r['All']['n'] == 2


def _random_panoptic_video(rng, frames, shape):
    """Frames with ids consistent across the video; crowd and void."""
    # two crowd segments of category 2 (5 and 8): only the one inserted last
    # into the window's segment dict filters false positives
    segs = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (2, 0), 5: (2, 1),
            6: (3, 0), 7: (3, 1), 8: (2, 1)}
    vid = []
    for _ in range(frames):
        gt = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8], shape)
        pred = rng.choice([0, 11, 12, 13, 14, 15], shape)
        pcat = {11: 0, 12: 1, 13: 2, 14: 2, 15: 3}
        present = [int(v) for v in np.unique(gt) if v]
        rng.shuffle(present)  # segments_info order is arbitrary
        gseg = {k: dict(category_id=segs[k][0], iscrowd=segs[k][1])
                for k in present}
        pseg = {int(k): dict(category_id=pcat[int(k)])
                for k in np.unique(pred) if k}
        vid.append((gt, gseg, pred, pseg))
    return vid


@pytest.mark.parametrize('seed', range(8))
def test_vpsnet_convention_matches_literal_reference(seed):
    rng = np.random.default_rng(seed)
    videos = [_random_panoptic_video(rng, 5, (4, 5)) for _ in range(2)]
    categories = {0: False, 1: False, 2: True, 3: True}
    windows = (1, 2, 3)
    acc = VPQAccumulator(4, windows, 'vpsnet')
    for vi, video in enumerate(videos):
        for gt, gseg, pred, pseg in video:
            g, p, c = pair_table(gt, pred)
            gk = np.array([0 if v == 0 else K(gseg[v]['category_id'], v,
                                              gseg[v]['iscrowd'])
                           for v in g], np.int64)
            pk = np.array([0 if v == 0 else K(pseg[v]['category_id'], v)
                           for v in p], np.int64)
            order = np.array([K(s['category_id'], k, s['iscrowd'])
                              for k, s in gseg.items()], np.int64)
            acc.update((gk, pk, c), vi, order=order)
    res = acc.result([2, 3], [0, 1], warn=False)
    for i, n in enumerate(windows):
        ref = vpq_vpsnet_reference(videos, n, categories)
        for cat in categories:
            exp = ref.get(cat, [0, 0, 0, 0.0])
            assert acc.stats.stats[i, cat, :3].tolist() == exp[:3]
            assert acc.stats.stats[i, cat, 3] == pytest.approx(exp[3])
        exp_pq = pq_average_reference(ref, categories)
        assert res['VPQ_per_window'][str(n)] == pytest.approx(100 * exp_pq)


@pytest.mark.parametrize('seed', [0, 1])
def test_vipdeeplab_convention_matches_literal_reference(seed):
    rng = np.random.default_rng(seed)
    things = (11, 13)
    videos = []
    for _ in range(2):
        video = []
        for _ in range(4):
            shape = (4, 6)
            gs = rng.choice([0, 2, 11, 13, 255], shape)
            gi = np.where(np.isin(gs, things), rng.integers(0, 3, shape), 0)
            ps = rng.choice([0, 2, 11, 13, 255], shape)
            pi = np.where(np.isin(ps, things), rng.integers(0, 3, shape), 0)
            video.append((gs, gi, ps, pi))
        videos.append(video)
    windows = (1, 2, 3)
    acc = VPQAccumulator(19, windows, 'vip-deeplab')
    for vi, video in enumerate(videos):
        for gs, gi, ps, pi in video:
            acc.update(kitti_step_table(encode_kitti_step(gs, gi),
                                        encode_kitti_step(ps, pi)), vi)
    stuff = [c for c in range(19) if c not in things]
    res = acc.result(things, stuff, warn=False)
    for n in windows:
        pq, tpq, spq = vpq_vipdeeplab_reference(videos, n, 19, things)
        assert res['VPQ_per_window'][str(n)] == pytest.approx(100 * pq)
        assert res['VPQ_thing_per_window'][str(n)] == pytest.approx(100 * tpq)
        assert res['VPQ_stuff_per_window'][str(n)] == pytest.approx(100 * spq)


def test_no_thing_segment_gives_none_with_warning():
    road = K(0, 0)
    acc = _video([[road, road]], [[road, road]], (1, ))
    with pytest.warns(UserWarning, match='no thing category'):
        res = acc.result([1, 2], [0])
    assert res['VPQ_thing'] is None and res['VPQ_thing_per_window'] == {
        '1': None}
    assert res['VPQ'] == 100.0 and res['VPQ_stuff'] == 100.0
