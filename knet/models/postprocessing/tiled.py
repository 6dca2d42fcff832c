"""The CPU fast path of the joint panoptic merge (exact).

On CPU the reference (:func:`~.merge.merge_joint` on every candidate mask
resized to full resolution) spends its time resizing and scanning [M, H, W]
masks that mostly cannot win a pixel. :func:`merge_joint_cpu` gives the same
result bit for bit with far less work:

* for the common resize chain (one power-of-two bilinear upsampling to the
  padded input and a crop, e.g. KITTI-STEP) tile by tile with
  :class:`TiledMasks`, without the [M, H, W] masks;
* otherwise only the exact contenders (:mod:`.pruning`) are resized and
  merged by the reference.

It runs many small ops and synchronises with the host in its loops, which is
right on a CPU and wrong on a GPU (see :class:`~.post_processor.
KNetPostProcessor`, ``merge_impl``). Its ops are small, so it is fastest
with one torch thread; the thread count is the caller's choice (the model
never changes it, see docs/benchmarks.md).
"""
import math
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .merge import PanopticOutput, assemble_joint, count_ids, joint_keep, \
    merge_joint
from .pruning import candidate_contenders, cell_contenders, \
    unique_kernels, window_bounds
from .torch_kernels import SMALL_OUTPUT, sigmoid_exact

__all__ = ['TiledMasks', 'tiled_masks', 'merge_joint_tiled',
           'merge_joint_cpu']


def _pairs_max(t: Tensor, dim: int, op: Callable = torch.maximum) -> Tensor:
    """``op`` of every element and its successor along ``dim`` (the last
    one with itself): the 2-tap window of a bilinear upsampling step."""
    n = t.shape[dim]
    out = torch.empty_like(t)
    op(t.narrow(dim, 0, n - 1), t.narrow(dim, 1, n - 1),
       out=out.narrow(dim, 0, n - 1))
    out.narrow(dim, n - 1, 1).copy_(t.narrow(dim, n - 1, 1))
    return out


def _prev_min(t: Tensor, dim: int) -> Tensor:
    """Min of every element and its predecessor along ``dim`` (the first
    one alone): over the 2 x 2 blocks that hold an input pixel."""
    n = t.shape[dim]
    out = t.clone()
    torch.minimum(t.narrow(dim, 1, n - 1), t.narrow(dim, 0, n - 1),
                  out=out.narrow(dim, 1, n - 1))
    return out


class TiledMasks:
    """Candidate masks ``sigmoid_exact(logits[kernels])`` upsampled by a
    power of two ``factor`` (bilinear, ``size=`` = ``factor`` x the input, as
    :func:`~.post_processor.rescale_masks` resizes to the padded input) and
    cropped to ``size``, without the [M, H, W] tensor: exact per-pixel
    argmax and >= 0.5 areas, computed tile by tile.

    Why it is bit-exact: with a power-of-two factor the source coordinate
    and weights of an output pixel are exact in float, so resizing a crop
    with a one-pixel halo (or the image border) on every side writes the
    same values at the crop's inner pixels as resizing the whole (crops are
    kept above torch's small-output kernel switch, and every element is
    sigmoided alike; see :mod:`.torch_kernels`). An output value is a convex
    combination of the 2 x 2 input pixels it reads, so bounds decide, with a
    margin far above float rounding, which candidates can win or tie in a
    tile (:func:`~.pruning.argmax_contenders`): first per cell of ``cell``
    input pixels (or of the low-resolution logits ``logits`` were upsampled
    from by an integer factor) from the cell and its 8 neighbours (a pixel of
    a cell reads nothing farther through both bilinear steps), then per 2 x 2
    input block; and which output pixels are surely above or below 0.5, per
    2 x 2 input block. A tile with one contender is filled without
    resizing; otherwise its contenders alone are resized, in candidate order
    (the first-maximum tie-breaking is unchanged).

    Args:
        logits: [N, h, w] mask logits (the merge input).
        kernels: [M] row of ``logits`` of each candidate.
        factor: upsampling factor (1, 2, 4 or 8); ``size`` <= factor x
            (h, w).
        size: (H, W) of the crop.
        low_res: [N, h0, w0] logits that ``logits`` were upsampled from by
            an integer factor (bilinear, align_corners=False) or None.
        cell: bound cell size (input pixels) without ``low_res``.
        tile: tile size in input pixels (rounded to cells; widened to stay
            above the small-output kernel switch).
        rtol, atol: margins of the argmax bounds (see
            :func:`~.pruning.argmax_contenders`; the default atol is far
            below any probability that matters and far above subnormal
            rounding).
    """

    # from this many contenders in a tile on, they are first narrowed down
    # per 2 x 2 input block (about the cost of resizing a handful of masks)
    screen_from = 5

    def __init__(self,
                 logits: Tensor,
                 kernels: Tensor,
                 factor: int,
                 size: Sequence[int],
                 low_res: Optional[Tensor] = None,
                 cell: int = 4,
                 tile: Sequence[int] = (16, 64),
                 rtol: float = 1e-4,
                 atol: float = 1e-30) -> None:
        self.logits, self.kernels, self.k = logits, kernels, int(factor)
        self.size = (int(size[0]), int(size[1]))
        self.rtol, self.atol = rtol, atol
        h, w = logits.shape[-2:]
        assert self.k * h >= self.size[0] and self.k * w >= self.size[1]
        if low_res is not None and h % low_res.shape[-2] == 0 and \
                w % low_res.shape[-1] == 0 and \
                h // low_res.shape[-2] == w // low_res.shape[-1]:
            self.f = h // low_res.shape[-2]
            lower, upper = window_bounds(low_res[kernels], window=3)
        else:
            self.f = cell
            lower, upper = window_bounds(logits[kernels], window=3, cell=cell)
        self.cell = self.k * self.f  # output pixels per cell side
        gh, gw = (-(-s // self.cell) for s in self.size)
        self.lower, self.upper = lower[:, :gh, :gw], upper[:, :gh, :gw]
        self._sig = None
        self.tile = (max(1, tile[0] // self.f),
                     max(1, -(-max(tile[1], SMALL_OUTPUT // self.k) //
                               self.f)))
        self.grid = (-(-gh // self.tile[0]), -(-gw // self.tile[1]))
        dev = logits.device
        # the input row / column that each output row / column reads first
        # (the other one is the next, or itself at the last)
        self.first_rows, self.first_cols = (
            ((2 * torch.arange(s, device=dev) + 1 - self.k).div(
                2 * self.k, rounding_mode='floor')).clamp(0, n - 1)
            for s, n in zip(self.size, (h, w)))
        self._bands = {}

    # ------------------------------------------------------------ geometry
    def _tiles(self, x: Tensor) -> Tensor:
        """[m, gh, gw] bool per cell -> [m, ty, tx] any per tile."""
        m, gh, gw = x.shape
        (th, tw), (ny, nx) = self.tile, self.grid
        x = F.pad(x, (0, nx * tw - gw, 0, ny * th - gh))
        return x.view(m, ny, th, nx, tw).any(4).any(2)

    def _cells_of(self, pixels: Tensor) -> Tensor:
        """[gh, gw] bool: cells holding at least one of ``pixels``."""
        gh, gw = self.lower.shape[-2:]
        c = self.cell
        p = F.pad(pixels, (0, gw * c - pixels.shape[1],
                           0, gh * c - pixels.shape[0]))
        return p.view(gh, c, gw, c).any(3).any(1)

    def _band(self, ty: int) -> dict:
        """Geometry of tile row ``ty``: the input rows ``a:b`` its output
        rows read (with a one-pixel halo or the border), and per tile an
        input crop ``left:left + cw`` of the same width likewise (crops
        reach farther where needed to stay above the small-output kernel
        switch; more context changes nothing)."""
        if ty in self._bands:
            return self._bands[ty]
        k, dev = self.k, self.logits.device
        h, w = self.logits.shape[-2:]
        th, tw = (t * self.cell for t in self.tile)
        y0 = ty * th
        y1 = min(y0 + th, self.size[0])
        a, b = max(y0 // k - 1, 0), min(-(-y1 // k) + 1, h)
        cw = min(tw // k + 2, w)
        short = max(SMALL_OUTPUT // k + 1 - (b - a) - cw, 0)
        b, short = b + min(short, h - b), short - min(short, h - b)
        a -= min(short, a)
        x0 = torch.arange(self.grid[1], device=dev) * tw
        x1 = (x0 + tw).clamp(max=self.size[1])
        left = (x0 // k - 1).clamp(min=0).clamp(max=w - cw)
        # output pixels of the band reading each 2 x 2 block first, per axis
        rows = torch.bincount(self.first_rows[y0:y1] - a, minlength=b - a)
        cols = torch.bincount(self.first_cols, minlength=w)
        out_cols = torch.arange(k * cw, device=dev)[None] + k * left[:, None]
        geo = dict(
            a=a, b=b, cw=cw, rows=slice(y0, y1),
            out_rows=slice(y0 - k * a, y1 - k * a),
            x0=x0.tolist(), x1=x1.tolist(), left=left.tolist(),
            # first / last strip column each tile's pixels read
            read_cols=(self.first_cols[x0],
                       (self.first_cols[x1 - 1] + 1).clamp(max=w - 1)),
            strip_weight=rows[:, None] * cols[None],
            region=(out_cols >= x0[:, None]) & (out_cols < x1[:, None]),
            out_first_rows=self.first_rows[y0:y1] - a)
        self._bands[ty] = geo
        return geo

    def _upsample(self, probs: Tensor, geo: dict) -> Tensor:
        """Resize crops [n, h', w'] (keeping the band's output rows)."""
        k = self.k
        return F.interpolate(
            probs[:, None], size=(k * probs.shape[1], k * probs.shape[2]),
            mode='bilinear', align_corners=False)[:, 0, geo['out_rows']]

    def _tile_crops(self, strip: Tensor, geo: dict, tiles: Sequence[int],
                    slots: Sequence[Tensor]) -> Tensor:
        """[n, K, h', w'] crops of tiles ``tiles`` from a band ``strip``
        [u, h', w] for the rows ``slots`` (zero padding up to K)."""
        kmax, cw = max(s.numel() for s in slots), geo['cw']
        out = strip.new_empty(len(tiles), kmax, strip.shape[1], cw)
        for i, (tx, rows) in enumerate(zip(tiles, slots)):
            left = geo['left'][tx]
            torch.index_select(strip[:, :, left:left + cw], 0, rows,
                               out=out[i, :rows.numel()])
            out[i, rows.numel():].zero_()
        return out

    def _paste(self, ids: Tensor, geo: dict, tiles: Sequence[int],
               local: Tensor) -> None:
        """Write per-tile results ``local`` ([n, Y, k w'] on the crops'
        output columns, or [n] constants) into ``ids``."""
        k = self.k
        for i, tx in enumerate(tiles):
            x0, x1, left = geo['x0'][tx], geo['x1'][tx], geo['left'][tx]
            ids[geo['rows'], x0:x1] = local[i] if local.dim() == 1 else \
                local[i, :, x0 - k * left:x1 - k * left]

    @staticmethod
    def _block_lower(values: Tensor, best: Tensor) -> Tensor:
        """[h', w'] lower bound of the highest of ``values`` [u, h', w'] on
        the output pixels reading each 2 x 2 block: the candidates best at
        the block's corners (``best`` [h', w']), each at its lowest corner.
        """
        u, h, w = values.shape
        dev = values.device
        ys = torch.arange(h, device=dev)[:, None]
        xs = torch.arange(w, device=dev)[None]
        corners = torch.stack([
            ((ys + dy).clamp(max=h - 1) * w + (xs + dx).clamp(max=w - 1)
             ).flatten() for dy in (0, 1) for dx in (0, 1)])
        cands = best.reshape(-1)[corners]  # [4 sources, blocks]
        flat = cands[:, None] * (h * w) + corners[None]
        low = values.view(-1).index_select(0, flat.flatten()).view(
            4, 4, -1).amin(1).amax(0)
        return low.view(h, w)

    @staticmethod
    def _reach(hit: Tensor, geo: dict, tiles: Tensor) -> Tensor:
        """[u, n] whether ``hit`` [u, w] holds in the strip columns read by
        each of ``tiles``."""
        seen = hit.cumsum(1)
        c0, c1 = (c[tiles] for c in geo['read_cols'])
        before = torch.where(c0 > 0, seen[:, (c0 - 1).clamp(min=0)], 0)
        return seen[:, c1] > before

    # ------------------------------------------------------------ argmax
    def argmax(self,
               scores: Tensor,
               cands: Optional[Tensor] = None,
               pixels: Optional[Tensor] = None) -> Tensor:
        """[H, W] per-pixel argmax over ``cands`` (default: all) of
        ``scores x masks`` (first maximum), as positions in ``cands``;
        only exact at ``pixels`` ([H, W] bool) when given."""
        if cands is None:
            cands = torch.arange(self.kernels.numel(),
                                 device=scores.device)
        if self._sig is None:
            self._sig = (self.lower.sigmoid(), self.upper.sigmoid())
        wts = scores.float()
        ok = cell_contenders(wts.view(-1, 1, 1) * self._sig[0][cands],
                              wts.view(-1, 1, 1) * self._sig[1][cands],
                              self.rtol, self.atol)
        if pixels is not None:
            ok &= self._cells_of(pixels)[None]
        sets = self._tiles(ok)
        count = sets.sum(0)
        # tiles with a single contender: it wins every pixel
        winner = sets.to(torch.uint8).argmax(0)
        (ny, nx), (th, tw) = self.grid, (t * self.cell for t in self.tile)
        ids = winner[:, None, :, None].expand(ny, th, nx, tw).reshape(
            ny * th, nx * tw)[:self.size[0], :self.size[1]].contiguous()
        for ty in range(self.grid[0]):
            tiles = (count[ty] > 1).nonzero(as_tuple=False)[:, 0]
            if tiles.numel():
                self._argmax_band(ids, ty, tiles, sets[:, ty, tiles].T,
                                  cands, wts)
        return ids

    def _argmax_band(self, ids: Tensor, ty: int, tiles: Tensor,
                     member: Tensor, cands: Tensor, wts: Tensor) -> None:
        """Exact argmax on the tiles ``(ty, tiles)`` whose contenders are
        ``member`` [n, m] (positions in ``cands``)."""
        geo = self._band(ty)
        used = member.any(0).nonzero(as_tuple=False)[:, 0]
        member = member[:, used]
        # the band's input rows of those contenders, all columns
        probs = sigmoid_exact(self.logits[:, geo['a']:geo['b']],
                              self.kernels[cands[used]])
        if int(member.sum(1).max()) >= self.screen_from:
            # contenders per 2 x 2 block: a candidate at least as high as
            # the block's lower bound at one of the block's input pixels
            values = probs * wts[used].view(-1, 1, 1)
            # the best candidate at every other input pixel: lower bounds
            # nearly as tight as from every pixel, for a quarter of the cost
            h, w = values.shape[1:]
            best = values[:, ::2, ::2].max(0).indices.repeat_interleave(
                2, 0).repeat_interleave(2, 1)[:h, :w]
            thr = self._block_lower(values, best)
            thr = (thr - (self.rtol * thr.abs() + self.atol)).masked_fill_(
                geo['strip_weight'] == 0, math.inf)
            tau = _prev_min(_prev_min(thr, 0), 1)
            # (v - tau >= 0 iff v >= tau; a subtraction and a max are much
            # faster than a comparison and an any over rows)
            member &= self._reach((values - tau).amax(1) >= 0, geo,
                                  tiles).T
        count = member.sum(1).tolist()
        tiles = tiles.tolist()
        one = [i for i, c in enumerate(count) if c == 1]
        if one:  # a single contender: it wins every pixel
            first = member[one].to(torch.uint8).argmax(1)
            self._paste(ids, geo, [tiles[i] for i in one], used[first])
        # tiles of similar contender counts resized together
        many = sorted((i for i, c in enumerate(count) if c > 1),
                      key=count.__getitem__)
        while many:
            group = [i for i in many if count[i] <= 1.25 * count[many[0]] + 2]
            many = many[len(group):]
            slots = [member[i].nonzero(as_tuple=False)[:, 0] for i in group]
            crops = self._tile_crops(probs, geo, [tiles[i] for i in group],
                                     slots)
            kmax = crops.shape[1]
            pos = torch.stack([F.pad(s, (0, kmax - s.numel())) for s in slots])
            # padding slots weigh 0: after the real ones in any tie
            pad = torch.arange(kmax, device=ids.device)[None] >= \
                torch.tensor([count[i] for i in group],
                             device=ids.device)[:, None]
            w = wts[used[pos]].masked_fill(pad, 0)
            up = self._upsample(crops.flatten(0, 1), geo)
            up = up.view(*pos.shape, *up.shape[1:]).mul_(w[:, :, None, None])
            best = up.max(1).indices
            rows = torch.arange(len(group), device=ids.device)[:, None, None]
            self._paste(ids, geo, [tiles[i] for i in group],
                        used[pos][rows, best])

    # ------------------------------------------------------------ areas
    def _area_band(self, ty: int, cands: Tensor, thr: float, margin: float,
                   exact: bool) -> Tuple[Tensor, Tensor]:
        """(surely counted, maybe counted) pixels of tile row ``ty`` per
        candidate, or (exact, exact) with ``exact``."""
        geo = self._band(ty)
        t = math.log(thr / (1 - thr))
        logits = self.logits[:, geo['a']:geo['b']].index_select(
            0, self.kernels[cands])
        # 2 x 2 input blocks surely above / maybe above the threshold
        sure = _pairs_max(_pairs_max(logits >= t + margin, 1,
                                     torch.logical_and), 2,
                          torch.logical_and)
        maybe = _pairs_max(_pairs_max(logits > t - margin, 1,
                                      torch.logical_or), 2,
                           torch.logical_or)
        weight = geo['strip_weight']
        flat = weight.flatten().double()  # integer sums: exact
        lower = torch.mv(sure.flatten(1).double(), flat).long()
        if not exact:
            return lower, torch.mv(maybe.flatten(1).double(), flat).long()
        unsure = maybe & ~sure & (weight > 0)
        tiles = torch.arange(self.grid[1], device=cands.device)
        pairs = self._reach(unsure.any(1), geo, tiles).nonzero(
            as_tuple=False)
        if pairs.numel():
            # resize the tiles with unsure blocks; count their pixels there
            dev, cw = cands.device, geo['cw']
            lefts = torch.tensor(geo['left'], device=dev)
            cols = lefts[pairs[:, 1], None] + torch.arange(cw, device=dev)
            crops = logits[pairs[:, 0, None, None],
                           torch.arange(logits.shape[1],
                                        device=dev)[None, :, None],
                           cols[:, None, :]]
            up = self._upsample(sigmoid_exact(crops), geo)
            out_x = (torch.arange(up.shape[-1], device=dev)[None] +
                     self.k * lefts[pairs[:, 1], None])
            first_x = self.first_cols[out_x.clamp(max=self.size[1] - 1)]
            blocks = unsure[pairs[:, 0, None, None],
                            geo['out_first_rows'][None, :, None],
                            first_x[:, None, :]]
            inside = geo['region'][pairs[:, 1]][:, None]
            counts = ((up >= thr) & blocks & inside).flatten(1).sum(1)
            lower = lower.index_add(0, pairs[:, 0], counts)
        return lower, lower

    def area_bounds(self, cands: Tensor, thr: float = 0.5,
                    margin: float = 1e-3) -> Tuple[Tensor, Tensor]:
        """[k] lower and upper bounds of :meth:`area` (no resizing)."""
        out = [self._area_band(ty, cands, thr, margin, False)
               for ty in range(self.grid[0])]
        return (sum(o[0] for o in out), sum(o[1] for o in out))

    def area(self, cands: Tensor, thr: float = 0.5,
             margin: float = 1e-3) -> Tensor:
        """[k] number of pixels where the masks of ``cands`` are >= ``thr``.

        2 x 2 input blocks whose logits are all beyond ``logit(thr) +-
        margin`` (far above the rounding of both resizes) count all or none
        of the output pixels that read them (first); only the tiles with
        other blocks are resized, and only those pixels counted there."""
        return sum(
            self._area_band(ty, cands, thr, margin, True)[0]
            for ty in range(self.grid[0]))


def _exact_where_needed(
        orig_area: Callable[[Tensor], Tensor],
        bounds: Callable[[Tensor], Tuple[Tensor, Tensor]],
        winners: Tensor, area: Tensor, low_thing: Tensor,
        overlap_thr: float) -> Tensor:
    """[M] >= 0.5 areas for :func:`~.merge.joint_keep`: exact for the
    winners whose keep decision depends on them, a bound giving the same
    decision for the others (0 for the candidates that win no pixel)."""
    out = torch.zeros_like(area)
    need = winners
    if winners.numel():
        lower, upper = (b.to(area.dtype) for b in bounds(winners))
        won = area[winners].double()
        # the same ratio test as the keep decision, at both bounds
        keep = (lower > 0) & (won / upper.clamp(min=1).double() >= overlap_thr)
        drop = (upper == 0) | low_thing[winners] | (
            won / lower.clamp(min=1).double() < overlap_thr)
        out[winners] = torch.where(keep, upper, lower)
        need = winners[~(keep | drop)]
    if need.numel():
        out[need] = orig_area(need).to(area.dtype)
    return out


def tiled_masks(mask_logits: Tensor, kernels: Tensor, img_meta: dict,
                low_res_logits: Optional[Tensor] = None
                ) -> Optional[TiledMasks]:
    """:func:`~.post_processor.rescale_masks` of ``mask_logits[kernels]``
    as :class:`TiledMasks` when the chain is one power-of-two upsampling to
    the padded input and a crop (no resize to ``ori_shape``), above torch's
    small-output kernel switch; None otherwise."""
    h2, w2 = mask_logits.shape[-2:]
    pad_h, pad_w = (int(v) for v in img_meta['batch_input_shape'])
    h, w = (int(v) for v in img_meta['img_shape'][:2])
    k = pad_h // h2
    if (k not in (1, 2, 4, 8) or k * h2 != pad_h or k * w2 != pad_w
            or tuple(img_meta['ori_shape'][:2]) != (h, w)
            or pad_h + pad_w <= SMALL_OUTPUT or kernels.numel() == 0):
        return None
    return TiledMasks(mask_logits, kernels, k, (h, w), low_res_logits)


def merge_joint_tiled(tiled: TiledMasks, scores: Tensor, labels: Tensor,
                      num_thing_classes: int, overlap_thr: float,
                      instance_score_thr: float, uncovered: str,
                      fill_label: int) -> PanopticOutput:
    """:func:`~.merge.merge_joint` of the candidates of ``tiled``, tile by
    tile: the argmax from the contenders of each tile, the >= 0.5 areas
    exact only where the keep decision depends on them, the uncovered fill
    only at the pixels without segment."""
    ids = tiled.argmax(scores)
    area = count_ids(ids, scores.numel())
    is_thing = labels < num_thing_classes
    winners = (area > 0).nonzero(as_tuple=False).squeeze(1)
    low_thing = is_thing & (scores < instance_score_thr)
    orig_area = _exact_where_needed(tiled.area, tiled.area_bounds, winners,
                                    area, low_thing, overlap_thr)
    keep = joint_keep(area, orig_area, scores, is_thing, overlap_thr,
                      instance_score_thr)

    def best_kept(keep: Tensor, free: Tensor) -> Tensor:
        best = torch.zeros_like(ids)
        kept = keep.nonzero(as_tuple=False).squeeze(1)
        if kept.numel() and bool(free.any()):
            best[free] = kept[tiled.argmax(scores[kept], kept, free)[free]]
        return best

    return assemble_joint(ids, keep, scores, labels, is_thing, area,
                          best_kept, uncovered, fill_label)


def merge_joint_cpu(mask_logits: Tensor, kernel_inds: Tensor, scores: Tensor,
                    labels: Tensor, num_thing_classes: int, img_meta: dict,
                    masks_of: Callable[[Tensor], Tensor],
                    low_res_logits: Optional[Tensor] = None,
                    tile: bool = True, **merge_cfg) -> PanopticOutput:
    """The joint merge of the candidates ``kernel_inds`` (rows of
    ``mask_logits``) with ``scores`` and ``labels``, equal to
    ``merge_joint(masks_of(kernel_inds), scores, labels, ...)``.

    Args:
        masks_of: [k] kernels -> [k, H, W] probabilities (the resize chain).
        low_res_logits: the logits ``mask_logits`` were upsampled from (for
            cheaper bounds), or None.
        tile: try :class:`TiledMasks` (only valid when ``masks_of`` is
            :func:`~.post_processor.rescale_masks`).
        **merge_cfg: ``overlap_thr``, ``instance_score_thr``, ``uncovered``,
            ``fill_label``.
    """
    result = None
    if tile:
        sub = unique_kernels(kernel_inds, scores)
        tiled = tiled_masks(mask_logits, kernel_inds[sub], img_meta,
                            low_res_logits)
        if tiled is not None:
            result = merge_joint_tiled(tiled, scores[sub], labels[sub],
                                       num_thing_classes, **merge_cfg)
    if result is None:
        sub = candidate_contenders(mask_logits, kernel_inds, scores,
                                   low_res_logits)
        result = merge_joint(masks_of(kernel_inds[sub]), scores[sub],
                             labels[sub], num_thing_classes, **merge_cfg)
    result.cand_inds = sub[result.cand_inds]
    return result
