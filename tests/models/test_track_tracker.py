"""Unit tests of the online kernel tracker (hand-made detections)."""
import re

import pytest
import torch

pytest.importorskip('mmdet')

from knet.models.trackers.kernel_tracker import KernelTracker, box_iou  # noqa


def _embed(*hot, dim=8, scale=10.0):
    """One-hot-ish embeddings: rows far apart in dot-product space."""
    out = torch.zeros(len(hot), dim)
    for i, h in enumerate(hot):
        out[i, h] = scale
    return out


def _box(x, y, w=10, h=10, score=0.9):
    return [x, y, x + w, y + h, score]


def test_box_iou_by_hand():
    a = torch.tensor([[0., 0., 10., 10.]])
    b = torch.tensor([[5., 0., 15., 10.], [20., 20., 30., 30.]])
    iou = box_iou(a, b)
    # overlap 5x10=50, union 100+100-50=150
    assert torch.allclose(iou, torch.tensor([[50 / 150, 0.]]))


def test_ids_persist_for_moving_objects_and_new_ids_for_new_objects():
    tr = KernelTracker()
    labels = torch.tensor([1, 0])
    ids_per_frame = []
    for t in range(4):
        boxes = torch.tensor([_box(10 + 5 * t, 10), _box(80 - 6 * t, 40)])
        res = tr.match(boxes, labels, _embed(0, 1), frame_id=t)
        ids_per_frame.append(res.ids.tolist())
    assert ids_per_frame == [[0, 1]] * 4
    # a third object appears
    boxes = torch.tensor([_box(30, 10), _box(56, 40), _box(100, 5)])
    res = tr.match(boxes, torch.tensor([1, 0, 1]), _embed(0, 1, 2), 4)
    assert res.ids.tolist() == [0, 1, 2]


def test_ids_follow_input_order_when_detections_are_dropped():
    """Input order is not score order and one box is a duplicate: each id
    must stay attached to its own detection (the release's defect)."""
    tr = KernelTracker()
    boxes = torch.tensor([_box(0, 0, score=0.5), _box(50, 0, score=0.9),
                          _box(100, 0, score=0.7)])
    res0 = tr.match(boxes, torch.tensor([1, 1, 1]), _embed(0, 1, 2), 0)
    # score order: det1 (0.9) -> id 0, det2 (0.7) -> id 1, det0 -> id 2
    assert res0.ids.tolist() == [2, 0, 1]
    assert res0.order.tolist() == [1, 2, 0]
    # next frame: a duplicate of det1 (IoU 0.82 > 0.7) with a lower score
    boxes = torch.tensor([_box(101, 0, score=0.8), _box(1, 0, score=0.6),
                          _box(51, 0, score=0.95), _box(52, 0, score=0.85)])
    res1 = tr.match(boxes, torch.tensor([1, 1, 1, 1]), _embed(2, 0, 1, 1), 1)
    assert res1.keep.tolist() == [True, True, True, False]
    assert res1.ids.tolist() == [1, 2, 0, -1]


def test_same_class_constraint():
    tr = KernelTracker()
    tr.match(torch.tensor([_box(0, 0)]), torch.tensor([0]), _embed(0), 0)
    # identical embedding but another class -> new track, not id 0
    res = tr.match(torch.tensor([_box(0, 0)]), torch.tensor([1]),
                   _embed(0), 1)
    assert res.ids.tolist() == [1]


def test_low_scores_do_not_start_tracks():
    tr = KernelTracker()
    res = tr.match(torch.tensor([_box(0, 0, score=0.34)]), torch.tensor([0]),
                   _embed(0), 0)
    assert res.ids.tolist() == [-1]
    assert tr.empty and len(tr.backdrops) == 1


def test_memory_is_bounded_and_tracks_expire():
    tr = KernelTracker(memo_tracklet_frames=5, memo_backdrop_frames=1)
    tr.match(torch.tensor([_box(0, 0)]), torch.tensor([0]), _embed(0), 0)
    for t in range(1, 50):
        # one new object per frame, of a class never seen before (a lone
        # detection would match any same-class track: its column softmax
        # is 1, so the bi-softmax is >= 0.5)
        tr.match(torch.tensor([_box(3 * t, 50)]), torch.tensor([t]),
                 _embed(1 + t % 7, dim=8), t)
        assert len(tr.tracks) <= 5
        assert len(tr.backdrops) <= 1
    # track 0 was not seen for 49 frames: forgotten; the object gets a new id
    res = tr.match(torch.tensor([_box(0, 0)]), torch.tensor([0]), _embed(0),
                   50)
    assert res.ids.item() == 50


def test_reset_starts_a_new_sequence():
    tr = KernelTracker()
    tr.match(torch.tensor([_box(0, 0)]), torch.tensor([0]), _embed(0), 0)
    tr.reset()
    assert tr.empty and tr.num_tracks == 0 and tr.memory_size() == 0
    res = tr.match(torch.tensor([_box(0, 0)]), torch.tensor([0]), _embed(0),
                   0)
    assert res.ids.tolist() == [0]


def test_momentum_update_of_embeddings():
    tr = KernelTracker(memo_momentum=0.8)
    e0 = _embed(0)
    tr.match(torch.tensor([_box(0, 0)]), torch.tensor([0]), e0, 0)
    e1 = e0.clone()
    e1[0, 1] = 5.0
    tr.match(torch.tensor([_box(1, 0)]), torch.tensor([0]), e1, 1)
    expected = 0.2 * e0[0] + 0.8 * e1[0]
    assert torch.allclose(tr.tracks[0]['embed'], expected)


def test_empty_frame():
    tr = KernelTracker()
    res = tr.match(torch.zeros(0, 5), torch.zeros(0, dtype=torch.long),
                   torch.zeros(0, 8), 0)
    assert res.ids.numel() == 0


def _scene(n, gen):
    """n detections on a grid (no overlaps), random scores, 3 classes."""
    xy = torch.stack(torch.meshgrid(torch.arange(10), torch.arange(10),
                                    indexing='ij'), -1).view(-1, 2)[:n] * 20.
    scores = torch.rand(n, generator=gen) * 0.8 + 0.2
    boxes = torch.cat([xy, xy + 10, scores[:, None]], 1)
    labels = torch.randint(0, 3, (n, ), generator=gen)
    embeds = torch.randn(n, 16, generator=gen)
    return boxes, labels, embeds


def test_host_reads_do_not_grow_with_the_detections():
    """The greedy matching runs on one host copy of the scores: on a GPU the
    number of device round trips per frame is the same for 5 or 60
    detections (the release read several values per detection)."""
    from tests.models.postprocessing._host_sync import HostSyncs
    gen = torch.Generator().manual_seed(0)
    reads = []
    for n in (5, 60):
        tracker = KernelTracker()
        boxes, labels, embeds = _scene(n, gen)
        tracker.match(boxes, labels, embeds, 0)
        with HostSyncs() as syncs:
            res = tracker.match(boxes, labels, embeds + 0.01, 1)
        assert int((res.ids >= 0).sum()) > n // 2  # most matched again
        reads.append(syncs.total)
    assert reads[0] == reads[1], reads


@pytest.mark.parametrize('kwargs, words', [
    (dict(init_score_thr=35), 'init_score_thr must be in [0, 1], got 35'),
    (dict(nms_class_iou_thr=-0.1), 'nms_class_iou_thr must be in [0, 1]'),
    (dict(memo_momentum=1.5), 'memo_momentum must be in [0, 1]'),
    (dict(memo_tracklet_frames=-1), 'memo_tracklet_frames must be a whole'),
    (dict(memo_backdrop_frames=1.5), 'memo_backdrop_frames must be a whole'),
    (dict(match_metric='l2'), "match_metric must be one of"),
])
def test_out_of_range_settings_are_refused_by_name(kwargs, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        KernelTracker(**kwargs)
