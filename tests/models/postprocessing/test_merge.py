"""The reference panoptic merges on hand-built and random candidates."""
import torch

from knet.models.postprocessing.merge import (count_ids, merge_joint,
                                              merge_thing_first,
                                              weighted_argmax)

from ._host_sync import HostSyncs


def _joint_reference(masks, scores, labels, t, overlap, inst_thr):
    """Straight transcription of the release's per-candidate loop."""
    h, w = masks.shape[-2:]
    pan = torch.zeros((h, w), dtype=torch.long)
    ids = (scores.view(-1, 1, 1) * masks).argmax(0)
    segs = []
    for k in torch.argsort(-scores, stable=True).tolist():
        isthing = labels[k] < t
        if isthing and scores[k] < inst_thr:
            continue
        mask = ids == k
        area = int(mask.sum())
        orig = int((masks[k] >= 0.5).sum())
        if area > 0 and orig > 0:
            if area / orig < overlap:
                continue
            segs.append(k)
            pan[mask] = len(segs)
    return pan, segs


def _case():
    h, w = 6, 8
    masks = torch.zeros(5, h, w)
    masks[0, :3, :4] = 0.9          # thing A (label 0)
    masks[1, :3, 2:6] = 0.8         # thing B overlaps A (label 1)
    masks[2, 3:, :] = 0.7           # stuff road (label 2)
    masks[3, :3, 6:] = 0.6          # stuff sky (label 3)
    masks[4, 4:, :2] = 0.95         # low-score thing (label 0)
    masks = masks + 0.01
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.2])
    labels = torch.tensor([0, 1, 2, 3, 0])
    return masks, scores, labels


def test_joint_merge_matches_release_loop():
    torch.manual_seed(0)
    for trial in range(20):
        masks = torch.rand(7, 9, 11)**3
        scores = torch.rand(7)
        labels = torch.randint(0, 5, (7, ))
        res = merge_joint(masks, scores, labels, 2, 0.6, 0.3,
                          uncovered='fixed', fill_label=0)
        pan, segs = _joint_reference(masks, scores, labels, 2, 0.6, 0.3)
        assert torch.equal(res.seg_ids, pan)
        assert res.cand_inds.tolist() == segs
        assert torch.equal(res.labels, labels[segs])
        for i, k in enumerate(segs):
            assert int(res.areas[i]) == int((pan == i + 1).sum())


def test_joint_merge_hand_case_and_uncovered_modes():
    masks, scores, labels = _case()
    res = merge_joint(masks, scores, labels, 2, overlap_thr=0.6,
                      instance_score_thr=0.3, uncovered='fixed', fill_label=9)
    # A wins its block, B keeps columns 4-5 of rows 0-2: 6 of 12 -> 0.5 < 0.6
    assert res.cand_inds.tolist() == [0, 2, 3]
    assert res.is_thing.tolist() == [True, False, False]
    assert (res.seg_ids[:3, :4] == 1).all()
    # B's pixels are uncovered (the low-score thing loses to road anyway)
    assert (res.seg_ids[:3, 4:6] == 0).all()
    assert (res.sem_seg[:3, 4:6] == 9).all()
    best = merge_joint(masks, scores, labels, 2, overlap_thr=0.6,
                       instance_score_thr=0.3, uncovered='best_kept')
    assert torch.equal(best.seg_ids, res.seg_ids)
    # uncovered pixels take the best kept candidate's class there
    # rows 0-2, cols 4-5: A 0.9*0.01, road 0.7*0.01, sky 0.6*0.01 -> A (0)
    assert (best.sem_seg[:3, 4:6] == 0).all()
    # the low-score thing's block belongs to road
    assert (best.sem_seg[4:, :2] == 2).all()
    assert (best.sem_seg >= 0).all() and (best.sem_seg != 9).all()


def test_thing_first_paste():
    masks, scores, labels = _case()
    res = merge_thing_first(
        masks[[0, 1, 4]], scores[[0, 1, 4]], labels[[0, 1, 4]],
        masks[[2, 3]], scores[[2, 3]], labels[[2, 3]],
        mask_thr=0.5, iou_thr=0.5, stuff_max_area=4,
        instance_score_thr=0.3, uncovered='fixed', fill_label=9)
    # A pasted, B overlaps A by 6/12 = 0.5 (not > 0.5) -> pasted on free part
    assert res.cand_inds.tolist() == [0, 1, 3, 4]
    assert (res.seg_ids[:3, :4] == 1).all()
    assert (res.seg_ids[:3, 4:6] == 2).all()
    assert (res.seg_ids[3:, :6] == 3).all()      # road below
    assert (res.seg_ids[:3, 6:] == 4).all()
    assert (res.seg_ids[3:, 6:] == 3).all()
    assert int(res.areas.sum()) == int((res.seg_ids > 0).sum())


def test_chunked_argmax_equals_full_argmax():
    torch.manual_seed(1)
    masks = torch.rand(9, 130, 37)
    scores = torch.rand(9)
    full = (scores.view(-1, 1, 1) * masks).argmax(0)
    assert torch.equal(weighted_argmax(masks, scores, chunk_rows=16), full)
    assert torch.equal(weighted_argmax(masks, scores), full)
    # restricted to some candidates: the first maximum among them
    valid = torch.tensor([False, True, False, True, True, False, False,
                          True, False])
    sub = valid.nonzero()[:, 0]
    want = sub[(scores[sub].view(-1, 1, 1) * masks[sub]).argmax(0)]
    assert torch.equal(weighted_argmax(masks, scores, valid, 16), want)


def test_count_ids_equals_bincount():
    gen = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 7, (13, 29), generator=gen)
    assert torch.equal(count_ids(ids, 9), torch.bincount(ids.flatten(),
                                                         minlength=9))


def test_joint_merge_reads_the_host_once():
    """The reference (the GPU path) waits for the device once per image:
    for the number of segments; no per-candidate reads."""
    gen = torch.Generator().manual_seed(3)
    masks = torch.rand(40, 30, 50, generator=gen) ** 3
    scores = torch.rand(40, generator=gen)
    labels = torch.randint(0, 6, (40, ), generator=gen)
    for uncovered in ('best_kept', 'fixed'):
        with HostSyncs() as syncs:
            res = merge_joint(masks, scores, labels, 3, 0.5, 0.3,
                              uncovered=uncovered, fill_label=1)
        assert syncs.total == 1, syncs.counts
        assert res.num_segments > 0
