"""Online tracker of Video K-Net: quasi-dense embedding matching with memory.

Behaviour of the release's ``QuasiDenseEmbedTracker`` (itself QDTrack's
tracker): detections are sorted by score, a detection whose box overlaps a
higher-scored one too much is dropped (IoU > ``nms_class_iou_thr``, or
> ``nms_backdrop_iou_thr`` for low-scored ones), the rest are matched greedily
in score order to the memory with bi-softmax similarity of the embeddings,
restricted to the same class. Unmatched detections above ``init_score_thr``
start new tracks. The memory keeps each track's momentum-averaged embedding
for ``memo_tracklet_frames`` frames and the unmatched detections of the last
``memo_backdrop_frames`` frames ("backdrops") as negatives.

Differences from the release (deliberate):

* :meth:`KernelTracker.match` returns the ids in the ORDER OF ITS INPUT (a
  :class:`TrackResult` also holds the sorted / kept view), so that ids can
  never be attached to the wrong mask when detections are dropped (the
  release wrote the score-sorted, filtered ids back by position).
* The box velocity statistics of the release are not kept: nothing reads them.
* :meth:`reset` starts a new sequence (called by the detector when the
  ``video_id`` changes), instead of rebuilding the tracker from a config.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch
from torch import Tensor

from mmdet.registry import MODELS

__all__ = ['KernelTracker', 'TrackResult', 'box_iou']


def box_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-6) -> Tensor:
    """Pairwise IoU of (x1, y1, x2, y2) boxes, as mmdet's ``bbox_overlaps``
    (no +1 on widths, union clamped to ``eps``)."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[..., 0] * wh[..., 1]
    union = (area1[:, None] + area2[None, :] - overlap).clamp(min=eps)
    return overlap / union


@dataclass
class TrackResult:
    """Output of :meth:`KernelTracker.match`.

    Attributes:
        ids: [n] int64, the track id (>= 0) of each INPUT detection, in input
            order; -1 = no id (dropped as a duplicate, below the init
            threshold, or a low-scored duplicate of a track).
        order: [n] int64, input indices sorted by descending score.
        keep: [n] bool in input order, False for detections removed by the
            duplicate-box rule.
        sorted_ids: ids of the kept detections in score order with the
            release's codes (-1 unmatched, -2 suppressed): what the release's
            ``match`` returned.
        assoc_scores: [n_kept, m] association scores (bi-softmax x same
            class) before greedy matching, or None when the memory was empty.
        memo_ids: [m] ids of the memory columns (-1 = backdrop), or None.
    """
    ids: Tensor
    order: Tensor
    keep: Tensor
    sorted_ids: Tensor
    assoc_scores: Optional[Tensor] = None
    memo_ids: Optional[Tensor] = None


MATCH_METRICS = ('bisoftmax', 'softmax', 'cosine')


@MODELS.register_module()
class KernelTracker:
    """Quasi-dense embedding tracker with a fixed-length memory.

    Args:
        init_score_thr: score needed to start a new track.
        obj_score_thr: score needed to continue a track (below it a matched
            detection is only marked as a duplicate).
        match_score_thr: association score needed to match.
        memo_tracklet_frames: frames a track survives without a match.
        memo_backdrop_frames: frames of unmatched detections kept as
            negatives.
        memo_momentum: weight of the NEW embedding in the track's update.
        nms_conf_thr: association score above which a low-scored matched
            detection is suppressed (code -2).
        nms_backdrop_iou_thr: duplicate IoU for low-scored detections and for
            deciding which unmatched detections become backdrops.
        nms_class_iou_thr: duplicate IoU for the other detections.
        with_cats: only match detections and tracks of the same class.
        match_metric: 'bisoftmax', 'softmax' or 'cosine'.
    """

    def __init__(self,
                 init_score_thr: float = 0.35,
                 obj_score_thr: float = 0.3,
                 match_score_thr: float = 0.5,
                 memo_tracklet_frames: int = 5,
                 memo_backdrop_frames: int = 1,
                 memo_momentum: float = 0.8,
                 nms_conf_thr: float = 0.5,
                 nms_backdrop_iou_thr: float = 0.3,
                 nms_class_iou_thr: float = 0.7,
                 with_cats: bool = True,
                 match_metric: str = 'bisoftmax') -> None:
        # scores, IoUs and the momentum are fractions: a value outside
        # [0, 1] (e.g. a percentage) would silently match everything or
        # nothing, so the config is refused with the key's name
        fractions = dict(
            init_score_thr=init_score_thr, obj_score_thr=obj_score_thr,
            match_score_thr=match_score_thr, memo_momentum=memo_momentum,
            nms_conf_thr=nms_conf_thr,
            nms_backdrop_iou_thr=nms_backdrop_iou_thr,
            nms_class_iou_thr=nms_class_iou_thr)
        for name, value in fractions.items():
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'KernelTracker: {name} must be in [0, 1], '
                                 f'got {value}')
            setattr(self, name, float(value))
        for name, value in (('memo_tracklet_frames', memo_tracklet_frames),
                            ('memo_backdrop_frames', memo_backdrop_frames)):
            if int(value) != value or value < 0:
                raise ValueError(f'KernelTracker: {name} must be a whole '
                                 f'number >= 0, got {value}')
            setattr(self, name, int(value))
        if match_metric not in MATCH_METRICS:
            raise ValueError(f'KernelTracker: match_metric must be one of '
                             f'{MATCH_METRICS}, got {match_metric!r}')
        self.with_cats = with_cats
        self.match_metric = match_metric
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget everything: a new sequence starts."""
        self.num_tracks = 0
        # id -> dict(bbox, embed, label, last_frame); insertion ordered.
        self.tracks: Dict[int, dict] = {}
        # newest first; each dict(bboxes, embeds, labels)
        self.backdrops: List[dict] = []

    @property
    def empty(self) -> bool:
        """True when no track is remembered (backdrops do not count)."""
        return not self.tracks

    def memory_size(self) -> int:
        """Number of remembered embeddings (tracks + backdrops)."""
        return len(self.tracks) + sum(
            b['embeds'].size(0) for b in self.backdrops)

    def _memo(self):
        """Memory as tensors: tracks (insertion order), then backdrops."""
        bboxes = [t['bbox'][None] for t in self.tracks.values()]
        embeds = [t['embed'][None] for t in self.tracks.values()]
        labels = [t['label'].view(1) for t in self.tracks.values()]
        ids = [torch.tensor(list(self.tracks.keys()), dtype=torch.long)]
        for b in self.backdrops:
            bboxes.append(b['bboxes'])
            embeds.append(b['embeds'])
            labels.append(b['labels'])
            ids.append(torch.full((b['embeds'].size(0), ), -1,
                                  dtype=torch.long))
        return (torch.cat(bboxes), torch.cat(labels), torch.cat(embeds),
                torch.cat(ids))

    # ---------------------------------------------------------------- helpers
    def _remove_duplicates(self, bboxes: Tensor) -> Tensor:
        """Keep-mask over score-sorted boxes: drop a box overlapping a
        higher-scored (kept or not, as the release) box too much."""
        n = bboxes.size(0)
        keep = torch.ones(n, dtype=torch.bool)
        if n < 2:
            return keep
        ious = box_iou(bboxes[:, :4], bboxes[:, :4])
        low = bboxes[:, 4] < self.obj_score_thr
        thr = torch.where(low, torch.full_like(bboxes[:, 4],
                                               self.nms_backdrop_iou_thr),
                          torch.full_like(bboxes[:, 4],
                                          self.nms_class_iou_thr))
        earlier = torch.ones(n, n, dtype=torch.bool).tril(-1).to(ious.device)
        dup = ((ious > thr[:, None]) & earlier).any(dim=1)
        keep[dup.cpu()] = False
        return keep

    def _scores(self, embeds: Tensor, memo_embeds: Tensor) -> Tensor:
        if self.match_metric == 'cosine':
            return torch.mm(
                torch.nn.functional.normalize(embeds, p=2, dim=1),
                torch.nn.functional.normalize(memo_embeds, p=2, dim=1).t())
        feats = torch.mm(embeds, memo_embeds.t())
        if self.match_metric == 'softmax':
            return feats.softmax(dim=1)
        return (feats.softmax(dim=1) + feats.softmax(dim=0)) / 2

    # ------------------------------------------------------------------ match
    @torch.no_grad()
    def match(self, bboxes: Tensor, labels: Tensor, embeds: Tensor,
              frame_id: int) -> TrackResult:
        """Associate one frame's detections with the memory.

        Args:
            bboxes: [n, 5] (x1, y1, x2, y2, score).
            labels: [n] class labels.
            embeds: [n, d] track embeddings.
            frame_id: index of the frame within its sequence.
        """
        n = bboxes.size(0)
        order = torch.argsort(bboxes[:, 4], descending=True, stable=True) \
            if n else torch.zeros(0, dtype=torch.long)
        s_bboxes, s_labels, s_embeds = bboxes[order], labels[order], \
            embeds[order]
        keep_sorted = self._remove_duplicates(s_bboxes)
        kept = order[keep_sorted.to(order.device)]
        k_bboxes = s_bboxes[keep_sorted]
        k_labels = s_labels[keep_sorted]
        k_embeds = s_embeds[keep_sorted]

        ids = torch.full((k_bboxes.size(0), ), -1, dtype=torch.long)
        assoc, memo_ids = None, None
        if k_bboxes.size(0) > 0 and not self.empty:
            _, memo_labels, memo_embeds, memo_ids = self._memo()
            scores = self._scores(k_embeds, memo_embeds.to(k_embeds))
            if self.with_cats:
                same = k_labels.view(-1, 1) == memo_labels.view(1, -1).to(
                    k_labels.device)
                scores = scores * same.to(scores.dtype)
            assoc = scores.clone()
            ids = self._greedy_match(scores, k_bboxes[:, 4], memo_ids)
        new = (ids == -1) & (k_bboxes[:, 4] > self.init_score_thr).cpu()
        num_new = int(new.sum())
        ids[new] = torch.arange(self.num_tracks, self.num_tracks + num_new)
        self.num_tracks += num_new
        self._update_memo(ids, k_bboxes, k_embeds, k_labels, frame_id)

        out_ids = torch.full((n, ), -1, dtype=torch.long)
        out_ids[kept.cpu()] = ids.clamp(min=-1)
        keep = torch.zeros(n, dtype=torch.bool)
        keep[kept.cpu()] = True
        return TrackResult(
            ids=out_ids,
            order=order.cpu(),
            keep=keep,
            sorted_ids=ids,
            assoc_scores=assoc,
            memo_ids=memo_ids)

    def _greedy_match(self, scores: Tensor, det_scores: Tensor,
                      memo_ids: Tensor) -> Tensor:
        """[n] ids of score-sorted detections: each takes its best memory
        entry if that is a track and the association score is above
        ``match_score_thr`` (a track then goes to no later detection);
        low-scored detections are marked -2 instead when the score is above
        ``nms_conf_thr``.

        Sequential, so it runs on one host copy of the scores (one device
        transfer, not several per detection); comparisons in the scores'
        dtype, as torch compares a tensor with a Python number.
        """
        s = scores.detach().cpu().numpy().copy()
        det = det_scores.detach().cpu().numpy()
        match_thr = s.dtype.type(self.match_score_thr)
        conf_thr = s.dtype.type(self.nms_conf_thr)
        obj_thr = det.dtype.type(self.obj_score_thr)
        memo = memo_ids.tolist()
        ids = [-1] * len(det)
        for i in range(len(det)):
            j = int(s[i].argmax())  # the first maximum, as torch.max
            conf = s[i, j]
            if conf > match_thr and memo[j] > -1:
                if det[i] > obj_thr:
                    ids[i] = memo[j]
                    # a track is taken by one detection only
                    s[:i, j] = 0
                    s[i + 1:, j] = 0
                elif conf > conf_thr:
                    ids[i] = -2
        return torch.tensor(ids, dtype=torch.long)

    def _update_memo(self, ids: Tensor, bboxes: Tensor, embeds: Tensor,
                     labels: Tensor, frame_id: int) -> None:
        """Momentum-update matched tracks, add new ones, store backdrops and
        forget what is older than the memory length."""
        m = self.memo_momentum
        for i, track_id in enumerate(ids.tolist()):
            if track_id < 0:
                continue
            if track_id in self.tracks:
                track = self.tracks[track_id]
                track['bbox'] = bboxes[i]
                track['embed'] = (1 - m) * track['embed'] + m * embeds[i]
                track['label'] = labels[i]
                track['last_frame'] = frame_id
            else:
                self.tracks[track_id] = dict(
                    bbox=bboxes[i],
                    embed=embeds[i],
                    label=labels[i],
                    last_frame=frame_id)

        # unmatched detections not overlapping an earlier detection
        back = torch.nonzero(ids == -1).flatten().to(bboxes.device)
        if back.numel():
            ious = box_iou(bboxes[back, :4], bboxes[:, :4])
            earlier = torch.arange(bboxes.size(0),
                                   device=ious.device)[None] < back[:, None]
            covered = ((ious > self.nms_backdrop_iou_thr) & earlier).any(1)
            back = back[~covered]
        self.backdrops.insert(
            0,
            dict(bboxes=bboxes[back], embeds=embeds[back],
                 labels=labels[back]))

        for track_id in [
                k for k, v in self.tracks.items()
                if frame_id - v['last_frame'] >= self.memo_tracklet_frames
        ]:
            self.tracks.pop(track_id)
        del self.backdrops[self.memo_backdrop_frames:]
