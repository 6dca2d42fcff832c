"""The fast post-processing paths equal the brute-force (release-order) ones.

* exact candidate pruning of the joint merge (``prune_candidates``, and
  the tiled merge, see also ``test_tiled_merge.py``) vs resizing every
  candidate to full resolution;
* the pruned semantic filter of Video K-Net vs the plain argmax of the
  resized logits;
* boxes from a label map vs boxes from per-object boolean masks.
All on random inputs; no timings.
"""

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('mmdet')

from knet.models.detectors.video_knet_utils import (  # noqa: E402
    boxes_from_label_map, masks_to_boxes)
from knet.models.layers.panoptic_merge import (  # noqa: E402
    argmax_contenders, window_bounds)

from ._tiny_head import P, S, T, tiny_iter_head as _head  # noqa: E402


def _smooth_logits(n, h, w, gen, scale=8.0):
    """Blob-like logits: coarse noise upsampled (realistic segments)."""
    coarse = torch.randn(1, n, max(1, h // 4), max(1, w // 4),
                         generator=gen) * scale
    return F.interpolate(coarse, (h, w), mode='bilinear',
                         align_corners=False)[0] - 2.0


def _stage_output(h8, w8, gen):
    n = P + S
    low = _smooth_logits(n, h8, w8, gen)
    low[P // 2:P] -= 30  # half of the thing kernels find nothing
    low = low[None]
    return dict(
        cls_score=torch.randn(1, n, T + S, generator=gen) * 2,
        mask_preds=low,
        scaled_mask_preds=F.interpolate(
            low, scale_factor=4, mode='bilinear', align_corners=False))


METAS = [
    # padded = image = ori (KITTI-STEP-like, exact x2 from the masks)
    dict(img_shape=(64, 96), batch_input_shape=(64, 96), ori_shape=(64, 96)),
    # padding, crop, then a resize to a different original size
    dict(img_shape=(50, 90), batch_input_shape=(64, 96),
         ori_shape=(77, 121)),
    dict(img_shape=(60, 80), batch_input_shape=(64, 96),
         ori_shape=(33, 47)),
]


def _same(a, b):
    for field in ('seg_ids', 'sem_seg', 'labels', 'is_thing', 'cand_inds',
                  'areas', 'kernel_inds', 'fill_ids'):
        assert torch.equal(getattr(a, field), getattr(b, field)), field
    assert torch.equal(a.scores, b.scores)


@pytest.mark.parametrize('uncovered', ['fixed', 'best_kept'])
def test_pruned_merge_equals_brute_force(uncovered):
    gen = torch.Generator().manual_seed(0)
    fast = _head(uncovered=uncovered, fill_label=2)
    slow = _head(uncovered=uncovered, fill_label=2, prune_candidates=False)
    resized = []
    rescale = fast.rescale_masks

    def counting(logits, meta):
        resized.append(logits.shape[0])
        return rescale(logits, meta)

    fast.rescale_masks = counting
    kept = 0
    for trial in range(12):
        meta = METAS[trial % len(METAS)]
        out = _stage_output(16, 24, gen)
        a = fast.predict_panoptic(out, [meta])[0]
        b = slow.predict_panoptic(out, [meta])[0]
        _same(a, b)
        # without the low-resolution logits (bounds from the merge input)
        c = fast.panoptic_single(out['cls_score'][0].sigmoid(),
                                 out['scaled_mask_preds'][0], meta)
        _same(c, b)
        kept += a.num_segments
    assert kept > 0
    # 10 thing + 5 stuff candidates each time; the pruning resized fewer
    assert max(resized) <= 15 and min(resized) < 15


def test_window_bounds_hold_through_the_resize_chain():
    gen = torch.Generator().manual_seed(1)
    low = torch.randn(5, 9, 13, generator=gen) * 6
    lower, upper = window_bounds(low, window=5)
    scaled = F.interpolate(low[None], scale_factor=4, mode='bilinear',
                           align_corners=False)
    full = F.interpolate(scaled, (72, 104), mode='bilinear',
                         align_corners=False)[0]
    # pixel centre -> stride-8 cell
    ys = torch.arange(72) // 8
    xs = torch.arange(104) // 8
    lo = lower[:, ys][:, :, xs]
    hi = upper[:, ys][:, :, xs]
    assert bool((full >= lo - 1e-5).all()) and bool((full <= hi + 1e-5).all())


def test_argmax_contenders_keep_every_winner():
    gen = torch.Generator().manual_seed(2)
    low = _smooth_logits(9, 12, 20, gen)
    lower, upper = window_bounds(low, window=5)
    keep = argmax_contenders(lower, upper)
    full = F.interpolate(low[None], (96, 160), mode='bilinear',
                         align_corners=False)[0]
    winners = full.argmax(0).unique()
    assert bool(keep[winners].all())
    sub = keep.nonzero()[:, 0]
    assert torch.equal(sub[full[sub].argmax(0)], full.argmax(0))


def test_semantic_filter_pruned_equals_plain_argmax():
    from types import SimpleNamespace

    from knet.models.detectors.video_knet import VideoKNet
    gen = torch.Generator().manual_seed(3)
    for align in (True, False):
        for meta in METAS:
            for trial in range(4):
                seg = _smooth_logits(T + S, 8, 12, gen)
                if trial == 1:
                    seg[:T] -= 50  # stuff everywhere
                if trial == 2:
                    seg[T:] -= 50  # things everywhere
                fake = SimpleNamespace(num_thing_classes=T,
                                       semantic_filter_align=align)
                got = VideoKNet._semantic_thing_mask(fake, seg, meta)
                logits = seg[None]
                if align:
                    h, w = meta['img_shape']
                    logits = F.interpolate(
                        logits, meta['batch_input_shape'], mode='bilinear',
                        align_corners=False)[..., :h, :w]
                if tuple(logits.shape[-2:]) != meta['ori_shape']:
                    logits = F.interpolate(logits, meta['ori_shape'],
                                           mode='bilinear',
                                           align_corners=False)
                want = logits[0].argmax(0) < T
                assert torch.equal(got, want), (align, meta, trial)


def test_boxes_from_label_map_equal_mask_boxes():
    gen = torch.Generator().manual_seed(4)
    for n in (0, 1, 4, 7):
        lab = torch.randint(0, n + 1, (3, 5), generator=gen)
        lab = lab.repeat_interleave(7, 0).repeat_interleave(9, 1)
        lab[torch.rand(lab.shape, generator=gen) < 0.3] = 0
        masks = lab[None] == torch.arange(1, n + 1).view(-1, 1, 1)
        assert torch.equal(boxes_from_label_map(lab, n), masks_to_boxes(masks))
    # an object with no pixel gets the release's placeholder box
    lab = torch.zeros(6, 8, dtype=torch.long)
    lab[2:4, 3:6] = 2
    assert boxes_from_label_map(lab, 2).tolist() == [[-1, -1, 10, 10],
                                                     [3, 2, 5, 3]]


def test_max_indices_break_ties_like_argmax():
    """The merge uses ``max(0).indices`` (faster on CPU): same first index
    as ``argmax(0)``, ties included."""
    gen = torch.Generator().manual_seed(5)
    x = torch.randint(0, 3, (9, 17, 33), generator=gen).float()
    assert torch.equal(x.max(0).indices, x.argmax(0))
    y = torch.rand(40, 8, 70, generator=gen)
    y[7] = y[3]  # exact duplicates: the earlier index wins
    assert torch.equal(y.max(0).indices, y.argmax(0))
    assert not bool((y.max(0).indices == 7).any())


@pytest.mark.parametrize('k,h2,w2,crop', [(2, 24, 48, (48, 96)),
                                          (2, 37, 29, (70, 51)),
                                          (4, 9, 25, (36, 97)),
                                          (1, 50, 90, (47, 90))])
def test_tiled_argmax_equals_full_resize(k, h2, w2, crop):
    """Tile-by-tile upsampling (one-pixel halo) gives the same per-pixel
    argmax as resizing the whole masks, on random logits."""
    gen = torch.Generator().manual_seed(6)
    head = _head()
    logits = torch.randn(23, h2, w2, generator=gen) * 4
    scores = torch.rand(23, generator=gen)
    meta = dict(batch_input_shape=(k * h2, k * w2), img_shape=crop,
                ori_shape=crop)
    tiled = head._tiled_masks(logits, torch.arange(23), meta)
    full = head.rescale_masks(logits, meta)
    assert tiled is not None
    assert torch.equal(tiled.argmax(scores),
                       (scores.view(-1, 1, 1) * full).argmax(0))
    # a chain with a resize to a different ori_shape is not tiled
    other = dict(meta, ori_shape=(crop[0] + 3, crop[1]))
    assert head._tiled_masks(logits, torch.arange(23), other) is None


def test_pruned_tiled_merge_equals_brute_force_at_stride_two():
    """Merge input at half the padded size (the video configs' x2 step):
    the tiled path is taken and equals the brute force."""
    gen = torch.Generator().manual_seed(7)
    fast = _head(uncovered='best_kept')
    slow = _head(uncovered='best_kept', prune_candidates=False)
    calls = []
    tiled = fast._tiled_masks

    def spy(*args, **kwargs):
        out = tiled(*args, **kwargs)
        calls.append(out is not None)
        return out

    fast._tiled_masks = spy
    meta = dict(img_shape=(96, 160), batch_input_shape=(96, 160),
                ori_shape=(96, 160))
    for trial in range(4):
        out = _stage_output(12, 20, gen)
        _same(fast.predict_panoptic(out, [meta])[0],
              slow.predict_panoptic(out, [meta])[0])
    assert calls and all(calls)
