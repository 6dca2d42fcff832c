"""The CPU merge (:mod:`knet.models.postprocessing.tiled`) equals the
straightforward full-resolution computation bit for bit.

Reference: every candidate mask resized at once by ``rescale_masks``
(sigmoid, bilinear resize to the padded input, crop), then the per-pixel
first-maximum of ``score x mask`` and the number of pixels >= 0.5 per mask;
for whole results the vectorised merge (the GPU path, forced on CPU).
Random and structured logits, ties (duplicate kernels, equal scores,
saturated and vanishing masks), odd crops of padded inputs, upsampling factors 1 / 2 / 4 / 8, bounds from the merge
input or from the low-resolution logits.
"""
import zlib

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('mmdet')

from knet.models.postprocessing import (  # noqa: E402
    merge_joint, rescale_masks, sigmoid_exact)
from knet.models.postprocessing import tiled as tiled_module  # noqa: E402
from knet.models.postprocessing.tiled import (  # noqa: E402
    merge_joint_tiled, tiled_masks)

from ._data import P, S, postprocessor, predict, same  # noqa: E402
from ._data import stage_output as _from_low  # noqa: E402


def _meta(k, h2, w2, crop=None):
    pad = (k * h2, k * w2)
    crop = pad if crop is None else crop
    return dict(batch_input_shape=pad, img_shape=crop, ori_shape=crop)


def _logits(kind, n, h0, w0, f, gen):
    """(low-res [n, h0, w0], merge input [n, f h0, f w0]) logits (``f``: an
    integer factor or the merge input's size)."""
    if kind == 'noise':  # per-pixel noise: many contenders everywhere
        low = torch.randn(n, h0, w0, generator=gen) * 3
    elif kind == 'blobs':  # smooth, confident: few contenders per tile
        coarse = torch.randn(n, 1, max(1, h0 // 8), max(1, w0 // 8),
                             generator=gen) * 12
        low = F.interpolate(coarse, (h0, w0), mode='bilinear',
                            align_corners=False)[:, 0] - 4
    elif kind == 'flat':  # every mask the same constant: ties everywhere
        low = torch.full((n, h0, w0), 0.3)
    elif kind == 'extreme':  # saturated (sigmoid 1) and vanishing masks
        low = torch.randn(n, h0, w0, generator=gen).sign() * 120
    else:
        raise ValueError(kind)
    if isinstance(f, int):
        up = F.interpolate(low[None], scale_factor=f, mode='bilinear',
                           align_corners=False)[0]
    else:
        up = F.interpolate(low[None], size=f, mode='bilinear',
                           align_corners=False)[0]
    return low, up


def _reference(logits, kernels, scores, meta):
    masks = rescale_masks(logits[kernels], meta)
    ids = (scores.view(-1, 1, 1) * masks).argmax(0)
    return masks, ids, (masks >= 0.5).flatten(1).sum(1)


CASES = [
    # k, low-res (h0, w0), factor low -> merge input, crop (None: padded)
    (2, (10, 40), 4, None),
    (2, (10, 40), 4, (77, 301)),
    (2, (5, 37), 4, (39, 291)),
    (4, (6, 20), 2, (45, 157)),
    (1, (10, 36), 4, (37, 141)),
    (8, (3, 10), 2, (47, 157)),
    (2, (1, 40), 4, (7, 319)),
    (2, (30, 10), 4, (233, 77)),  # narrow: taller crops
    (2, (9, 16), (37, 71), (73, 141)),  # odd input, no integer factor
]


@pytest.mark.parametrize('k,low,f,crop', CASES)
@pytest.mark.parametrize('kind', ['noise', 'blobs', 'flat', 'extreme'])
def test_tiled_argmax_and_areas_equal_full_resolution(k, low, f, crop, kind):
    gen = torch.Generator().manual_seed(
        zlib.crc32(repr((k, low, crop, kind)).encode()))
    n = 14
    low_res, logits = _logits(kind, n, *low, f, gen)
    meta = _meta(k, *logits.shape[-2:], crop)
    kernels = torch.randperm(n, generator=gen)[:12]
    kernels[5] = kernels[2]  # a duplicate kernel
    scores = torch.rand(12, generator=gen)
    scores[5] = scores[2]  # ... with the same score: an exact tie
    scores[7] = scores[8]  # equal scores of different masks
    masks, want_ids, want_area = _reference(logits, kernels, scores, meta)
    for bounds_from in (low_res, None):
        tiled = tiled_masks(logits, kernels, meta, bounds_from)
        assert tiled is not None
        assert torch.equal(tiled.argmax(scores), want_ids)
        everyone = torch.arange(12)
        assert torch.equal(tiled.area(everyone), want_area)
        lower, upper = tiled.area_bounds(everyone)
        assert bool((lower <= want_area).all())
        assert bool((want_area <= upper).all())
        # a subset of the candidates, exact on some pixels only
        sub = torch.tensor([0, 3, 5, 6, 9])
        pixels = torch.rand(masks.shape[1:], generator=gen) < 0.2
        pixels[:, :masks.shape[2] // 3] = False
        got = tiled.argmax(scores[sub], sub, pixels)
        want = (scores[sub].view(-1, 1, 1) * masks[sub]).argmax(0)
        assert torch.equal(got[pixels], want[pixels])


@pytest.mark.parametrize('k,low,f,crop', CASES)
def test_tile_crops_reproduce_full_masks_bitwise(k, low, f, crop):
    """Every value the tiles resize equals the full resize bit for bit (the
    argmax and area tests above would rarely notice a last-bit change)."""
    gen = torch.Generator().manual_seed(8)
    low_res, logits = _logits('noise', 5, *low, f, gen)
    meta = _meta(k, *logits.shape[-2:], crop)
    kernels = torch.tensor([3, 0, 4])
    full = rescale_masks(logits[kernels], meta)
    tiled = tiled_masks(logits, kernels, meta, low_res)
    got = torch.full_like(full, -1.0)
    for ty in range(tiled.grid[0]):
        geo = tiled._band(ty)
        strip = sigmoid_exact(logits[:, geo['a']:geo['b']], kernels)
        tiles = list(range(tiled.grid[1]))
        crops = tiled._tile_crops(strip, geo, tiles, [torch.arange(3)] * len(
            tiles))
        up = tiled._upsample(crops.flatten(0, 1), geo)
        up = up.view(len(tiles), 3, *up.shape[1:])
        for tx in tiles:
            x0, x1, left = (geo[key][tx] for key in ('x0', 'x1', 'left'))
            got[:, geo['rows'], x0:x1] = up[tx, :, :, x0 - k * left:
                                            x1 - k * left]
    assert torch.equal(got, full)


def test_rescaled_mask_does_not_depend_on_the_other_masks():
    """A mask's rescaled values are the same whichever masks are resized
    with it (3 channels on one thread take another kernel in torch; the
    sigmoid's vector-loop tails differ): pruning changes no value."""
    gen = torch.Generator().manual_seed(9)
    logits = torch.randn(5, 30, 61, generator=gen) * 4
    meta = _meta(2, 30, 61, (57, 117))
    threads = torch.get_num_threads()
    try:
        for num in (1, threads):
            torch.set_num_threads(num)
            every = rescale_masks(logits, meta)
            for rows in ([0, 2, 4], [3], [1, 4], [4, 3, 2, 1]):
                assert torch.equal(
                    rescale_masks(logits[rows], meta), every[rows])
    finally:
        torch.set_num_threads(threads)


def test_tiled_argmax_breaks_ties_by_candidate_order():
    """Identical masks and scores: the first candidate wins everywhere."""
    gen = torch.Generator().manual_seed(3)
    low_res, logits = _logits('noise', 6, 10, 40, 4, gen)
    kernels = torch.tensor([4, 1, 4, 1, 0])
    scores = torch.tensor([0.5, 0.7, 0.5, 0.7, 0.1])
    meta = _meta(2, *logits.shape[-2:])
    tiled = tiled_masks(logits, kernels, meta, low_res)
    ids = tiled.argmax(scores)
    assert not bool(((ids == 2) | (ids == 3)).any())
    _, want, _ = _reference(logits, kernels, scores, meta)
    assert torch.equal(ids, want)


def test_tiled_merge_resizes_only_contenders():
    """Smooth masks: tiles with one contender are not resized, the others
    only for their contenders."""
    gen = torch.Generator().manual_seed(4)
    low_res, logits = _logits('blobs', 14, 24, 80, 4, gen)
    meta = _meta(2, *logits.shape[-2:])
    kernels, scores = torch.arange(14), torch.rand(14, generator=gen)
    tiled = tiled_masks(logits, kernels, meta, low_res)
    resized = []
    upsample = tiled._upsample

    def counting(probs, geo):
        resized.append(probs.numel())
        return upsample(probs, geo)

    tiled._upsample = counting
    _, want, _ = _reference(logits, kernels, scores, meta)
    assert torch.equal(tiled.argmax(scores), want)
    assert sum(resized) < 0.5 * logits.numel()


def test_tiled_masks_only_for_an_exact_power_of_two_chain():
    logits = torch.randn(3, 30, 60)
    kernels = torch.arange(3)
    assert tiled_masks(logits, kernels, _meta(2, 30, 60)) is not None
    # resized to another original size afterwards
    other = dict(_meta(2, 30, 60), ori_shape=(41, 80))
    assert tiled_masks(logits, kernels, other) is None
    # not a power-of-two factor
    assert tiled_masks(logits, kernels, dict(
        batch_input_shape=(90, 180), img_shape=(90, 180),
        ori_shape=(90, 180))) is None
    # below torch's small-output kernel switch: the full path (it is small)
    assert tiled_masks(torch.randn(3, 20, 40), kernels,
                             _meta(2, 20, 40)) is None


def test_sigmoid_exact_does_not_depend_on_position():
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(7, 13, 29, generator=gen) * 8
    whole = sigmoid_exact(x)
    for rows in (slice(0, 1), slice(2, 5), slice(6, 7)):
        for cols in (slice(0, 29), slice(3, 4), slice(5, 22)):
            part = sigmoid_exact(x[:, rows, cols].contiguous())
            assert torch.equal(part, whole[:, rows, cols])
    idx = torch.tensor([6, 0, 3])
    assert torch.equal(sigmoid_exact(x, idx), whole[idx])
    # the same function as torch's (vectorised) sigmoid
    assert torch.allclose(whole, x.sigmoid(), rtol=1e-6, atol=0)


class _FullMasks:
    """The interface of TiledMasks that merge_joint_tiled reads, from full
    masks; counts the exact area requests."""

    def __init__(self, masks, loose):
        self.masks, self.loose, self.asked = masks, loose, []

    def argmax(self, scores, cands=None, pixels=None):
        m = self.masks if cands is None else self.masks[cands]
        return (scores.view(-1, 1, 1) * m).argmax(0)

    def area(self, cands):
        self.asked.append(cands.numel())
        return (self.masks[cands] >= 0.5).flatten(1).sum(1)

    def area_bounds(self, cands):
        exact = (self.masks[cands] >= 0.5).flatten(1).sum(1)
        return (exact * 9) // 10 if self.loose else exact, exact + 3 * int(
            self.loose)


def test_tiled_assembly_equals_the_reference_merge():
    """merge_joint_tiled's use of argmax, area bounds and exact areas gives
    merge_joint's result; exact areas only where bounds leave it open."""
    gen = torch.Generator().manual_seed(6)
    for trial in range(6):
        masks = torch.rand(7, 20, 30, generator=gen) ** 3
        masks[trial % 7] = masks[(trial + 3) % 7]
        scores = torch.rand(7, generator=gen)
        labels = torch.randint(0, 5, (7, ), generator=gen)
        for uncovered in ('best_kept', 'fixed'):
            want = merge_joint(masks, scores, labels, 2, overlap_thr=0.5,
                               instance_score_thr=0.3, uncovered=uncovered,
                               fill_label=4)
            asked = []
            for loose in (False, True):
                full = _FullMasks(masks, loose)
                got = merge_joint_tiled(full, scores, labels, 2, 0.5, 0.3,
                                        uncovered, 4)
                same(got, want)
                asked.append(sum(full.asked))
            # exact bounds decide everything; loose ones leave some open
            assert asked[0] == 0 and asked[1] <= 7


def _stage_output(h8, w8, gen, kind):
    low = _logits(kind, P + S, h8, w8, 1, gen)[0]
    if kind == 'blobs':
        low[P // 2:P] -= 30  # half of the thing kernels find nothing
    return _from_low(low, gen)


@pytest.mark.parametrize('cfg', [
    dict(uncovered='best_kept'),
    dict(uncovered='fixed', fill_label=3),
    dict(uncovered='best_kept', thing_candidates='per_kernel'),
    dict(uncovered='best_kept',
         merge_stuff_thing=dict(overlap_thr=0.9, instance_score_thr=0.6)),
])
def test_tiled_merge_equals_brute_force(cfg, monkeypatch):
    """The module's merge: tiled (the CPU default) == every mask resized
    (the vectorised GPU path, forced on CPU), for padded, cropped and
    x2-merged inputs."""
    gen = torch.Generator().manual_seed(7)
    fast = postprocessor(merge_impl='tiled', **cfg)
    slow = postprocessor(merge_impl='vectorised', **cfg)
    auto = postprocessor(**cfg)
    assert auto.impl_for(torch.device('cpu')) == 'tiled'
    used = []

    def spy(*args, **kwargs):
        out = tiled_masks(*args, **kwargs)
        used.append(out is not None)
        return out

    monkeypatch.setattr(tiled_module, 'tiled_masks', spy)
    metas = [
        _meta(2, 48, 96),  # merge input at 1/2 of the padded input
        _meta(2, 48, 96, (91, 183)),  # ... with padding
        _meta(1, 48, 96, (47, 95)),  # merge input at the padded size
        dict(img_shape=(90, 180), batch_input_shape=(96, 192),
             ori_shape=(60, 120)),  # + resize to ori_shape: full path
    ]
    kept = 0
    for trial, meta in enumerate(metas * 2):
        # merge input [1, 17, 48, 96], upsampled x4 from 12 x 24
        out = _stage_output(12, 24, gen, ('noise', 'blobs')[trial // 4])
        a = predict(fast, out, meta)
        b = predict(slow, out, meta)
        same(a, b)
        same(predict(auto, out, meta), b)
        kept += a.num_segments
    assert kept > 0
    assert used.count(True) == 12 and used.count(False) == 4
