"""Panoptic merge of K-Net's thing and stuff candidates (pure torch).

Two strategies of the release:

* :func:`merge_joint` (``merge_joint=True``, MaskFormer-style): every pixel
  goes to the candidate with the highest ``score x mask probability``; a
  candidate becomes a segment if it wins at least one pixel, has a pixel with
  probability >= 0.5, keeps at least ``overlap_thr`` of that area, and (things
  only) scores at least ``instance_score_thr``. The keep decisions are
  independent of each other, so this is fully vectorised; segments are
  numbered 1.. in descending score order, as the release does.
* :func:`merge_thing_first`: paste thresholded thing masks by score (skipping
  those overlapping earlier ones by more than ``iou_thr``), then fill the
  remaining pixels with stuff classes whose free area is at least
  ``stuff_max_area``. Sequential by nature (each paste depends on the
  previous ones): one loop over the (at most ``max_per_img``) candidates.

Pixels that no segment claims: the release leaves segment 0 and writes a
fixed class there (Video K-Net: dataset id 0, i.e. road on KITTI-STEP; K-Net:
VOID). ``uncovered='best_kept'`` (default) labels them with the best *kept*
segment's class at that pixel (segment id stays 0); ``uncovered='fixed'``
writes ``fill_label`` (the release behaviour with the right label).

Exact candidate pruning (:func:`window_bounds`, :func:`argmax_contenders`):
bilinear resizing (no antialias) writes every output pixel as a convex
combination of a small neighbourhood of its input, so a candidate whose
upper bound (max over a window of the low-resolution logits, through the
monotonic sigmoid, times its score) stays below another candidate's lower
bound everywhere can never win a pixel. Dropping such candidates BEFORE the
full-resolution resize leaves the argmax, the kept segments and every map
bit-identical (channels are resized independently) while only the few
contenders are resized to full resolution.

:class:`TiledMasks` applies the same bounds per tile of the image: a tile
with one contender is filled without resizing anything, and only the
contenders of the other tiles are resized, on the tile's crop (see the class
doc for why that is bit-exact).
"""
import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'PanopticOutput', 'merge_joint', 'merge_thing_first', 'window_bounds',
    'argmax_contenders', 'sigmoid_exact', 'TiledMasks'
]


@dataclass
class PanopticOutput:
    """Result of a panoptic merge for one image.

    Attributes:
        seg_ids: [H, W] long, 0 = no segment, 1..S = segment index + 1.
        sem_seg: [H, W] long, model label per pixel (see ``uncovered``).
        labels: [S] long model labels of the segments.
        scores: [S] float scores of the segments.
        is_thing: [S] bool.
        cand_inds: [S] long index of each segment in the candidate list.
        areas: [S] long pixel counts of the segments.
        kernel_inds: [S] long kernel index (filled by the caller) or None.
        fill_ids: [H, W] long, for pixels without segment: the segment
            (1..S) whose class ``sem_seg`` took there (``'best_kept'``),
            0 elsewhere; lets a consumer attach them to that segment.
    """
    seg_ids: Tensor
    sem_seg: Tensor
    labels: Tensor
    scores: Tensor
    is_thing: Tensor
    cand_inds: Tensor
    areas: Tensor
    kernel_inds: Optional[Tensor] = None
    fill_ids: Optional[Tensor] = None

    @property
    def num_segments(self) -> int:
        return int(self.labels.numel())


def _window_max(t: Tensor, window: int, dim: int) -> Tensor:
    """Max over a centred ``window`` along ``dim``, clipped at the borders
    (= a stride-1 max-pool padded with -inf, several times faster on CPU)."""
    out = t.clone()
    n = t.shape[dim]
    for d in range(1, min(window // 2, n - 1) + 1):
        head, tail = out.narrow(dim, 0, n - d), out.narrow(dim, d, n - d)
        torch.maximum(head, t.narrow(dim, d, n - d), out=head)
        torch.maximum(tail, t.narrow(dim, 0, n - d), out=tail)
    return out


def _cell_max(t: Tensor, cell: int) -> Tensor:
    """Max over non-overlapping ``cell`` x ``cell`` cells of [M, h, w] (the
    last ones partial, as a ceil-mode max-pool)."""
    m, h, w = t.shape
    gh, gw = -(-h // cell), -(-w // cell)
    if gh * cell != h or gw * cell != w:
        t = F.pad(t, (0, gw * cell - w, 0, gh * cell - h),
                  value=-math.inf)
    return t.reshape(m, gh, cell, gw, cell).amax((2, 4))


def window_bounds(logits: Tensor, window: int = 5,
                  cell: int = 1) -> Tuple[Tensor, Tensor]:
    """Per-cell (lower, upper) bounds of ``logits`` [M, h, w] over a
    ``window`` x ``window`` neighbourhood of cells of ``cell`` x ``cell``
    input pixels. Any value that a bilinear resize chain (each step reading a
    2 x 2 input neighbourhood) writes at an output pixel lies between the
    bounds of the cell under that pixel's centre, for ``window`` >= 5 cells
    of at most one stride-8 pixel (see the module doc); ``window`` = 3
    suffices for integer upsampling factors (see :class:`TiledMasks`)."""
    x = logits.detach().float()
    upper = _cell_max(x, cell) if cell > 1 else x
    lower = -_cell_max(-x, cell) if cell > 1 else x

    def window_max(t: Tensor) -> Tensor:  # separable: rows, then columns
        return _window_max(_window_max(t, window, 1), window, 2)

    return -window_max(-lower), window_max(upper)


def argmax_contenders(lower: Tensor, upper: Tensor,
                      rtol: float = 1e-4, atol: float = 1e-5) -> Tensor:
    """[M] bool: candidates that can be the per-pixel argmax somewhere.

    Args:
        lower, upper: [M, h, w] per-cell bounds of each candidate's value at
            every pixel of the cell's area.

    A candidate is dropped when in every cell its upper bound is below the
    best lower bound (minus a margin far above float rounding), so it can
    neither win nor tie. Never empty for M > 0.
    """
    if lower.shape[0] == 0:
        return torch.zeros(0, dtype=torch.bool, device=lower.device)
    return _cell_contenders(lower, upper, rtol, atol).flatten(1).any(1)


def _cell_contenders(lower: Tensor, upper: Tensor, rtol: float,
                     atol: float) -> Tensor:
    """[M, h, w] bool: the candidates that can win or tie in each cell."""
    best = lower.amax(0)
    thr = best - (rtol * best.abs() + atol)
    return upper >= thr[None]


# ATen's parallel grain: smaller element-wise ops run in one serial loop
_GRAIN = 32768


@torch.no_grad()
def sigmoid_exact(x: Tensor, index: Optional[Tensor] = None) -> Tensor:
    """``x.sigmoid()`` (``x.index_select(0, index).sigmoid()`` with
    ``index``) whose value for an element does not depend on the tensor the
    element sits in.

    torch's CPU kernel computes the last elements of every thread's chunk
    (fewer than two vector widths) with a scalar formula that can differ
    from the vectorised one in the last bit, so sigmoiding a crop of a
    tensor could disagree with sigmoiding the whole. Here every element
    takes the vectorised path (a zero-padded flat buffer, a multiple of 64
    elements, sigmoided in one serial loop per chunk), hence masks
    sigmoided tile by tile equal masks sigmoided at once. Post-processing:
    no gradient.
    """
    shape = x.shape if index is None else (index.numel(), ) + x.shape[1:]
    if x.device.type != 'cpu':
        return (x if index is None else x.index_select(0, index)).sigmoid()
    n = math.prod(shape)
    buf = x.new_empty(-(-n // 64) * 64)
    if index is None:
        buf[:n].view(shape).copy_(x)
    else:
        torch.index_select(x, 0, index, out=buf[:n].view(shape))
    buf[n:].zero_()
    if torch.get_num_threads() == 1:
        buf.sigmoid_()
    else:  # one serial loop per chunk, chunks a multiple of 64 elements
        for start in range(0, buf.numel(), _GRAIN - 64):
            buf[start:start + _GRAIN - 64].sigmoid_()
    return buf[:n].view(shape)


def _weighted_argmax(masks: Tensor, scores: Tensor,
                     chunk_rows: int = 64) -> Tensor:
    """argmax over candidates of ``scores x masks`` per pixel, computed in
    row chunks so that no second [M, H, W] tensor is materialised."""
    h = masks.shape[1]
    ids = torch.empty(masks.shape[1:], dtype=torch.long, device=masks.device)
    weights = scores.view(-1, 1, 1)
    for r in range(0, h, chunk_rows):
        rows = slice(r, r + chunk_rows)
        # max(0).indices: the first maximum, as argmax(0), but several times
        # faster on CPU for a reduction over the leading dimension
        ids[rows] = (weights * masks[:, rows]).max(0).indices
    return ids


# torch's CPU bilinear upsampling picks another kernel, with other rounding,
# for outputs whose height + width is at most this: crops stay above it.
_SMALL_OUTPUT = 128


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
    :meth:`KernelIterHead.rescale_masks` resizes to the padded input) and
    cropped to ``size``, without the [M, H, W] tensor: exact per-pixel
    argmax and >= 0.5 areas, computed tile by tile.

    Why it is bit-exact: with a power-of-two factor the source coordinate
    and weights of an output pixel are exact in float, so resizing a crop
    with a one-pixel halo (or the image border) on every side writes the
    same values at the crop's inner pixels as resizing the whole (crops are
    kept above torch's small-output kernel switch, and every element is
    sigmoided alike, see :func:`sigmoid_exact`). An output value is a convex
    combination of the 2 x 2 input pixels it reads, so bounds decide, with a
    margin far above float rounding, which candidates can win or tie in a
    tile (:func:`argmax_contenders`): first per cell of ``cell`` input
    pixels (or of the low-resolution logits ``logits`` were upsampled from
    by an integer factor) from the cell and its 8 neighbours (a pixel of a
    cell reads nothing farther through both bilinear steps), then per 2 x 2
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
            :func:`argmax_contenders`; the default atol is far below any
            probability that matters and far above subnormal rounding).
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
                     max(1, -(-max(tile[1], _SMALL_OUTPUT // self.k) //
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
        short = max(_SMALL_OUTPUT // k + 1 - (b - a) - cw, 0)
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
        ok = _cell_contenders(wts.view(-1, 1, 1) * self._sig[0][cands],
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


def _masks_argmax(masks: Union[Tensor, '_Rows', Callable[[Tensor], Tensor]],
                  scores: Tensor) -> Callable[[Tensor, Tensor], Tensor]:
    """``fill_argmax`` of :func:`merge_joint` from (winners') masks."""

    def best(kept: Tensor, free: Tensor) -> Tensor:
        rows = masks(kept) if callable(masks) else masks[kept]
        prob = scores[kept].view(-1, 1) * rows[:, free]
        return kept[prob.max(0).indices]

    return best


class _Rows:
    """``masks[cands]`` for winner candidates, from the winners' masks."""

    def __init__(self, win_masks: Tensor, pos: Tensor) -> None:
        self.win_masks, self.pos = win_masks, pos

    def __getitem__(self, cands: Tensor) -> Tensor:
        return self.win_masks[self.pos[cands]]


def _fill_uncovered(sem: Tensor, seg_ids: Tensor,
                    fill_argmax: Optional[Callable[[Tensor, Tensor], Tensor]],
                    labels: Tensor, seg_of_cand: Tensor, uncovered: str,
                    fill_label: int) -> Tuple[Tensor, Tensor]:
    """Label pixels without segment; returns ``(sem, fill_ids)``."""
    fill_ids = torch.zeros_like(seg_ids)
    free = seg_ids == 0
    if not bool(free.any()):
        return sem, fill_ids
    if uncovered == 'fixed':
        sem[free] = fill_label
    elif uncovered == 'best_kept':
        kept = (seg_of_cand > 0).nonzero(as_tuple=False).squeeze(1)
        if kept.numel() > 0:
            if fill_argmax is None:
                raise ValueError("uncovered='best_kept' needs the masks or "
                                 'fill_argmax')
            best = fill_argmax(kept, free)
            sem[free] = labels[best]
            fill_ids[free] = seg_of_cand[best]
        # nothing kept: keep the label of the overall best candidate
    else:
        raise ValueError(f'unknown uncovered mode {uncovered!r}')
    return sem, fill_ids


def _exact_where_needed(
        orig_area: Callable[[Tensor], Tensor],
        bounds: Optional[Callable[[Tensor], Tuple[Tensor, Tensor]]],
        winners: Tensor, area: Tensor, low_thing: Tensor,
        overlap_thr: float) -> Tensor:
    """[M] >= 0.5 areas of :func:`merge_joint`: exact for the winners whose
    keep decision depends on them, a bound giving the same decision for the
    others."""
    out = torch.zeros_like(area)
    need = winners
    if bounds is not None and winners.numel():
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


def merge_joint(
        masks: Union[Tensor, Callable[[Tensor], Tensor], None],
        scores: Tensor,
        labels: Tensor,
        num_thing_classes: int,
        overlap_thr: float = 0.6,
        instance_score_thr: float = 0.25,
        uncovered: str = 'best_kept',
        fill_label: int = 0,
        ids: Optional[Tensor] = None,
        orig_area: Union[Tensor, Callable[[Tensor], Tensor], None] = None,
        orig_area_bounds: Optional[Callable[[Tensor], Tuple[Tensor,
                                                            Tensor]]] = None,
        fill_argmax: Optional[Callable[[Tensor, Tensor], Tensor]] = None
) -> PanopticOutput:
    """Joint argmax merge (see module doc).

    Args:
        masks: [M, H, W] mask probabilities of the candidates, or a function
            giving them for a [k] index tensor of candidates (only called
            for the candidates that win pixels; needs ``ids``), or None when
            ``ids``, ``orig_area`` and (for ``'best_kept'``) ``fill_argmax``
            replace them.
        scores: [M] candidate scores.
        labels: [M] model labels (things < num_thing_classes).
        ids: [H, W] precomputed per-pixel argmax of ``scores x masks``
            (e.g. computed tile by tile without the [M, H, W] masks).
        orig_area: number of pixels with mask >= 0.5 per candidate: [M]
            (only the entries of candidates that win pixels are read) or a
            function giving them for a [k] index tensor of those.
        orig_area_bounds: function giving cheap (lower, upper) bounds of
            ``orig_area`` for a [k] index tensor; the exact areas are then
            only asked for the candidates whose keep decision the bounds
            leave open (they are used for nothing else).
        fill_argmax: function ``(kept, free)`` -> [F] candidate of
            ``kept`` (ascending [k] indices) with the highest ``scores x
            masks`` (first maximum) at each ``free`` ([H, W] bool) pixel,
            for ``uncovered='best_kept'``.
    """
    num_cands = scores.shape[0]
    if ids is None:
        ids = _weighted_argmax(masks, scores)
    area = torch.bincount(ids.flatten(), minlength=num_cands)
    # the >= 0.5 area only matters for candidates that win pixels (the
    # others are dropped by area > 0): count it for those alone
    winners = (area > 0).nonzero(as_tuple=False).squeeze(1)
    if orig_area is None:
        win_masks = masks(winners) if callable(masks) else masks[winners]
        orig_area = torch.zeros_like(area)
        orig_area[winners] = (win_masks >= 0.5).flatten(1).sum(
            1, dtype=torch.int32).long()
        # full masks of the winners (kept segments are winners) for the fill
        pos = torch.zeros(num_cands, dtype=torch.long, device=ids.device)
        pos[winners] = torch.arange(winners.numel(), device=ids.device)
        masks = _Rows(win_masks, pos)
    is_thing = labels < num_thing_classes
    low_thing = is_thing & (scores < instance_score_thr)
    if callable(orig_area):
        orig_area = _exact_where_needed(orig_area, orig_area_bounds,
                                        winners, area, low_thing,
                                        overlap_thr)
    if fill_argmax is None and masks is not None:
        fill_argmax = _masks_argmax(masks, scores)
    ratio = area.double() / orig_area.clamp(min=1).double()
    keep = (area > 0) & (orig_area > 0) & ~low_thing & (ratio >= overlap_thr)

    order = torch.argsort(-scores, stable=True)
    kept = order[keep[order]]
    seg_of_cand = torch.zeros(num_cands, dtype=torch.long, device=ids.device)
    seg_of_cand[kept] = torch.arange(
        1, kept.numel() + 1, device=ids.device)
    seg_ids = seg_of_cand[ids]
    sem = labels[ids].clone()
    sem, fill_ids = _fill_uncovered(sem, seg_ids, fill_argmax, labels,
                                    seg_of_cand, uncovered, fill_label)
    return PanopticOutput(
        seg_ids=seg_ids,
        sem_seg=sem,
        labels=labels[kept],
        scores=scores[kept],
        is_thing=is_thing[kept],
        cand_inds=kept,
        areas=area[kept],
        fill_ids=fill_ids)


def merge_thing_first(thing_masks: Tensor,
                      thing_scores: Tensor,
                      thing_labels: Tensor,
                      stuff_masks: Tensor,
                      stuff_scores: Tensor,
                      stuff_labels: Tensor,
                      mask_thr: float = 0.5,
                      iou_thr: float = 0.5,
                      stuff_max_area: int = 4096,
                      instance_score_thr: float = 0.3,
                      uncovered: str = 'best_kept',
                      fill_label: int = 0) -> PanopticOutput:
    """Paste things by score, then stuff (see module doc).

    Masks are probabilities ([T, H, W] / [S, H, W]); candidates are indexed
    things first, then stuff, in ``cand_inds``.
    """
    num_things = thing_masks.shape[0]
    h, w = thing_masks.shape[-2:]
    device = thing_masks.device
    seg_ids = torch.zeros((h, w), dtype=torch.long, device=device)
    tm = thing_masks > mask_thr
    sm = stuff_masks > mask_thr
    seg_cands, seg_areas = [], []
    order = torch.argsort(-thing_scores, stable=True)
    order = order[thing_scores[order] >= instance_score_thr]
    areas = tm.flatten(1).sum(1)
    for k in order.tolist():
        if int(areas[k]) == 0:
            continue
        mask = tm[k]
        free = seg_ids == 0
        inter = int((mask & ~free).sum())
        if inter / int(areas[k]) > iou_thr:
            continue
        mask = mask & free
        area = int(mask.sum())
        if area == 0:
            continue
        seg_cands.append(k)
        seg_areas.append(area)
        seg_ids[mask] = len(seg_cands)
    sorder = torch.argsort(-stuff_scores, stable=True)
    seen = set()
    for k in sorder.tolist():
        label = int(stuff_labels[k])
        if label in seen:
            continue
        seen.add(label)
        mask = sm[stuff_labels == label].any(0) & (seg_ids == 0)
        area = int(mask.sum())
        if area < stuff_max_area:
            continue
        seg_cands.append(num_things + k)
        seg_areas.append(area)
        seg_ids[mask] = len(seg_cands)

    cand = torch.tensor(seg_cands, dtype=torch.long, device=device)
    all_scores = torch.cat([thing_scores, stuff_scores])
    all_labels = torch.cat([thing_labels, stuff_labels])
    all_masks = torch.cat([thing_masks, stuff_masks])
    lut = torch.cat([all_labels.new_zeros(1), all_labels[cand]])
    sem = lut[seg_ids]
    seg_of_cand = torch.zeros(all_scores.numel(), dtype=torch.long,
                              device=device)
    seg_of_cand[cand] = torch.arange(1, cand.numel() + 1, device=device)
    if uncovered == 'best_kept' and cand.numel() == 0:
        sem = all_labels[_weighted_argmax(all_masks, all_scores)]
    sem, fill_ids = _fill_uncovered(sem, seg_ids,
                                    _masks_argmax(all_masks, all_scores),
                                    all_labels, seg_of_cand, uncovered,
                                    fill_label)
    return PanopticOutput(
        seg_ids=seg_ids,
        sem_seg=sem,
        labels=all_labels[cand],
        scores=all_scores[cand],
        is_thing=cand < num_things,
        cand_inds=cand,
        areas=torch.tensor(seg_areas, dtype=torch.long, device=device),
        fill_ids=fill_ids)
