"""KNetPostProcessor: every merge_impl gives the same result; the exact
pruning behind the CPU path; the semantic filter; instances; config errors.

* the CPU path (exact candidate pruning and the tiled merge, see also
  ``test_tiled.py``) vs the vectorised GPU path forced on CPU tensors
  (every candidate resized to full resolution);
* the pruned semantic filter of Video K-Net vs the plain argmax of the
  resized logits;
* host reads of the vectorised path (none per candidate).
All on random inputs; no timings.
"""

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('mmdet')

from knet.models.postprocessing import (  # noqa: E402
    argmax_contenders, build_postprocessor, mask_boxes, rescale_masks,
    semantic_thing_mask, window_bounds)
from knet.models.postprocessing import \
    post_processor as pp_module  # noqa: E402
from knet.models.postprocessing.tiled import tiled_masks  # noqa: E402

from ._data import (P, S, T, postprocessor, predict, same,  # noqa: E402
                    stage_output)
from ._host_sync import HostSyncs  # noqa: E402


def _smooth_logits(n, h, w, gen, scale=8.0):
    """Blob-like logits: coarse noise upsampled (realistic segments)."""
    coarse = torch.randn(1, n, max(1, h // 4), max(1, w // 4),
                         generator=gen) * scale
    return F.interpolate(coarse, (h, w), mode='bilinear',
                         align_corners=False)[0] - 2.0


def _stage_output(h8, w8, gen):
    low = _smooth_logits(P + S, h8, w8, gen)
    low[P // 2:P] -= 30  # half of the thing kernels find nothing
    return stage_output(low, gen)


METAS = [
    # padded = image = ori (KITTI-STEP-like, exact x2 from the masks)
    dict(img_shape=(64, 96), batch_input_shape=(64, 96), ori_shape=(64, 96)),
    # padding, crop, then a resize to a different original size
    dict(img_shape=(50, 90), batch_input_shape=(64, 96),
         ori_shape=(77, 121)),
    dict(img_shape=(60, 80), batch_input_shape=(64, 96),
         ori_shape=(33, 47)),
]


@pytest.mark.parametrize('uncovered', ['fixed', 'best_kept'])
@pytest.mark.parametrize('resolution', ['image', 'mask'])
def test_pruned_merge_equals_brute_force(uncovered, resolution,
                                         monkeypatch):
    gen = torch.Generator().manual_seed(0)
    cfg = dict(uncovered=uncovered, fill_label=2,
               merge_resolution=resolution)
    fast = postprocessor(merge_impl='tiled', **cfg)
    slow = postprocessor(merge_impl='vectorised', **cfg)
    resized, counting_on = [], [False]
    name = 'rescale_masks' if resolution == 'image' else 'crop_masks'
    resize = getattr(pp_module, name)

    def counting(logits, meta):
        if counting_on[0]:
            resized.append(logits.shape[0])
        return resize(logits, meta)

    monkeypatch.setattr(pp_module, name, counting)
    kept = 0
    for trial in range(12):
        meta = METAS[trial % len(METAS)]
        out = _stage_output(16, 24, gen)
        b = predict(slow, out, meta)
        counting_on[0] = True
        a = predict(fast, out, meta)
        counting_on[0] = False
        same(a, b)
        # without the low-resolution logits (bounds from the merge input)
        c = fast.panoptic(out['cls_score'][0].sigmoid(),
                          out['scaled_mask_preds'][0], meta)
        same(c, b)
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
    gen = torch.Generator().manual_seed(3)
    for align in (True, False):
        for meta in METAS:
            for trial in range(4):
                seg = _smooth_logits(T + S, 8, 12, gen)
                if trial == 1:
                    seg[:T] -= 50  # stuff everywhere
                if trial == 2:
                    seg[T:] -= 50  # things everywhere
                got = semantic_thing_mask(seg, meta, T, align, prune=True)
                plain = semantic_thing_mask(seg, meta, T, align, prune=False)
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
                assert torch.equal(plain, want), (align, meta, trial)


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
    logits = torch.randn(23, h2, w2, generator=gen) * 4
    scores = torch.rand(23, generator=gen)
    meta = dict(batch_input_shape=(k * h2, k * w2), img_shape=crop,
                ori_shape=crop)
    tiled = tiled_masks(logits, torch.arange(23), meta)
    full = rescale_masks(logits, meta)
    assert tiled is not None
    assert torch.equal(tiled.argmax(scores),
                       (scores.view(-1, 1, 1) * full).argmax(0))
    # a chain with a resize to a different ori_shape is not tiled
    other = dict(meta, ori_shape=(crop[0] + 3, crop[1]))
    assert tiled_masks(logits, torch.arange(23), other) is None


def test_pruned_tiled_merge_equals_brute_force_at_stride_two(monkeypatch):
    """Merge input at half the padded size (the video configs' x2 step):
    the tiled path is taken and equals the brute force."""
    from knet.models.postprocessing import tiled as tiled_module
    gen = torch.Generator().manual_seed(7)
    fast = postprocessor(uncovered='best_kept', merge_impl='tiled')
    slow = postprocessor(uncovered='best_kept', merge_impl='vectorised')
    calls = []

    def spy(*args, **kwargs):
        out = tiled_masks(*args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(tiled_module, 'tiled_masks', spy)
    meta = dict(img_shape=(96, 160), batch_input_shape=(96, 160),
                ori_shape=(96, 160))
    for trial in range(4):
        out = _stage_output(12, 20, gen)
        same(predict(fast, out, meta), predict(slow, out, meta))
    assert calls and all(calls)


def test_merge_impl_follows_the_device():
    pp = postprocessor()
    assert pp.impl_for(torch.device('cpu')) == 'tiled'
    assert pp.impl_for(torch.device('cuda', 0)) == 'vectorised'
    assert pp.impl_for('meta') == 'vectorised'
    for impl in ('tiled', 'vectorised'):
        forced = postprocessor(merge_impl=impl)
        assert forced.impl_for('cpu') == forced.impl_for('cuda') == impl


@pytest.mark.parametrize('resolution', ['image', 'mask'])
def test_vectorised_path_reads_the_host_once_per_image(resolution):
    """The GPU path (forced on CPU tensors): one host read per image (the
    number of segments), none per candidate, tile or row."""
    gen = torch.Generator().manual_seed(8)
    pp = postprocessor(merge_impl='vectorised', merge_resolution=resolution)
    out = _stage_output(16, 24, gen)
    out = {k: torch.cat([v, v]) for k, v in out.items()}  # two images
    with HostSyncs() as syncs:
        res = pp.predict_panoptic(out['cls_score'], out['scaled_mask_preds'],
                                  METAS[1:], out['mask_preds'])
    assert syncs.total == 2, syncs.counts
    assert len(res) == 2 and res[0].num_segments > 0
    # the CPU path reads the host in its loops (what it is for)
    cpu = postprocessor(merge_impl='tiled', merge_resolution=resolution)
    with HostSyncs() as syncs:
        cpu.predict_panoptic(out['cls_score'], out['scaled_mask_preds'],
                             METAS[1:], out['mask_preds'])
    assert syncs.total > 2


def test_thing_first_merge_is_the_same_on_every_path():
    gen = torch.Generator().manual_seed(9)
    out = _stage_output(16, 24, gen)
    results = [
        predict(postprocessor(merge_joint=False, merge_impl=impl,
                              uncovered='best_kept'), out, METAS[0])
        for impl in ('auto', 'tiled', 'vectorised')
    ]
    for res in results[1:]:
        same(res, results[0])
    assert results[0].num_segments > 0


def test_instances_and_their_boxes():
    from mmdet.structures.mask import mask2bbox
    gen = torch.Generator().manual_seed(10)
    masks = torch.rand(9, 23, 31, generator=gen) > 0.97
    masks[3] = False  # an empty mask
    masks[4, 5, 7] = True  # a single pixel
    masks[4, 6:] = False
    assert torch.equal(mask_boxes(masks), mask2bbox(masks))
    assert torch.equal(mask_boxes(masks[:0]), mask2bbox(masks[:0]))
    out = _stage_output(16, 24, gen)
    pp = postprocessor(max_per_img=6)
    inst = pp.predict_instances(out['cls_score'], out['scaled_mask_preds'],
                                METAS[1:2])[0]
    scores = out['cls_score'][0].sigmoid()
    top, idx = scores.flatten().topk(6)
    kernels = idx // scores.shape[1]
    want = rescale_masks(out['scaled_mask_preds'][0][kernels], METAS[1]) > 0.5
    assert torch.equal(inst.scores, top)
    assert torch.equal(inst.kernel_inds, kernels)
    assert torch.equal(inst.labels, idx % scores.shape[1])
    assert torch.equal(inst.masks, want)
    assert torch.equal(inst.bboxes, mask2bbox(want))


def test_unknown_and_replaced_test_cfg_keys_are_errors():
    with pytest.raises(TypeError, match='prune_candidates.*merge_impl'):
        build_postprocessor(P, T, S, dict(prune_candidates=False))
    with pytest.raises(TypeError, match='merge_threads'):
        build_postprocessor(P, T, S, dict(merge_threads=1))
    with pytest.raises(TypeError, match='max_per_imgs'):
        build_postprocessor(P, T, S, dict(max_per_imgs=3))
    with pytest.raises(TypeError, match='overlap_thresh'):
        build_postprocessor(P, T, S,
                            dict(merge_stuff_thing=dict(overlap_thresh=1)))
    for key, value in (('merge_impl', 'gpu'), ('uncovered', 'void'),
                       ('merge_resolution', 'full'),
                       ('thing_candidates', 'all')):
        with pytest.raises(ValueError, match=key):
            build_postprocessor(P, T, S, {key: value})
    pp = build_postprocessor(P, T, S, dict(
        merge_impl='vectorised', merge_stuff_thing=dict(overlap_thr=0.7)))
    assert pp.merge_stuff_thing == dict(overlap_thr=0.7, iou_thr=0.5,
                                        stuff_max_area=4096,
                                        instance_score_thr=0.3)
