"""Kernel association embedding head of Video K-Net (the release's
``QuasiDenseMaskEmbedHeadGTMask`` with ``num_convs=0``, ``roi_feat_size=1``).

It maps each (already ``embed_fcs`` + ``fc_embed`` projected) thing kernel to
a tracking embedding with ``num_fcs`` Linear + ReLU layers and a final linear
``fc_embed``. Training pairs are the Hungarian-positive kernels of a key and a
reference frame; a pair is positive when both kernels are assigned to the same
ground-truth instance (:meth:`get_track_targets`). Losses: multi-positive
cross-entropy on dot products and an L2 loss on cosine similarities.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdet.registry import MODELS
from ..layers.precision import float32_region, to_float32

__all__ = ['KernelTrackHead']


@MODELS.register_module()
class KernelTrackHead(BaseModule):
    """Embedding head + association losses.

    Args:
        num_fcs: number of Linear + ReLU layers (``fcs``).
        in_channels: kernel channels.
        fc_out_channels: width of ``fcs``.
        embed_channels: output embedding size (``fc_embed``).
        softmax_temp: > 0 divides cosine similarities by it instead of using
            dot products for the cross-entropy (the release uses -1).
        loss_track: multi-positive cross-entropy config (weight 0.25).
        loss_track_aux: L2 cosine loss config, or None.
    """

    def __init__(self,
                 num_fcs: int = 2,
                 in_channels: int = 256,
                 fc_out_channels: int = 256,
                 embed_channels: int = 256,
                 softmax_temp: float = -1,
                 loss_track: dict = dict(
                     type='MultiPosCrossEntropyLoss', loss_weight=0.25),
                 loss_track_aux: Optional[dict] = dict(
                     type='TrackL2Loss',
                     neg_pos_ub=3,
                     pos_margin=0,
                     neg_margin=0.1,
                     hard_mining=True,
                     loss_weight=1.0),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fcs = nn.ModuleList()
        last = in_channels
        for _ in range(num_fcs):
            self.fcs.append(nn.Linear(last, fc_out_channels))
            last = fc_out_channels
        self.fc_embed = nn.Linear(last, embed_channels)
        self.softmax_temp = softmax_temp
        self.loss_track = MODELS.build(loss_track)
        self.loss_track_aux = (
            MODELS.build(loss_track_aux) if loss_track_aux else None)

    def init_weights(self) -> None:
        """Xavier-uniform ``fcs``, N(0, 0.01) ``fc_embed`` (the release)."""
        for fc in self.fcs:
            nn.init.xavier_uniform_(fc.weight)
            nn.init.constant_(fc.bias, 0)
        nn.init.normal_(self.fc_embed.weight, 0, 0.01)
        nn.init.constant_(self.fc_embed.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        """[n, in_channels] (or [n, C, 1, 1]) -> [n, embed_channels]."""
        x = x.flatten(1)
        for fc in self.fcs:
            x = F.relu(fc(x))
        return self.fc_embed(x)

    @staticmethod
    def get_track_targets(
            gt_match_indices: Sequence[Tensor],
            key_pos_assigned_gt_inds: Sequence[Tensor],
            ref_pos_assigned_gt_inds: Sequence[Tensor]
    ) -> Tuple[List[Tensor], List[Tensor]]:
        """Pair targets per image.

        Args:
            gt_match_indices: per image, [n_key_gt] index of the reference GT
                with the same instance id, -1 if absent.
            key_pos_assigned_gt_inds: per image, the key GT index (0-based)
                of each positive key kernel.
            ref_pos_assigned_gt_inds: the same for the reference frame.

        Returns:
            targets ([n_key_pos, n_ref_pos] int32, 1 = same instance) and
            weights ([n_key_pos], 1 for rows with at least one positive).
        """
        targets, weights = [], []
        for match, key_gt, ref_gt in zip(gt_match_indices,
                                         key_pos_assigned_gt_inds,
                                         ref_pos_assigned_gt_inds):
            key_to_ref = match[key_gt.long()]
            tgt = (key_to_ref.view(-1, 1) == ref_gt.view(1, -1).to(
                key_to_ref)).int()
            targets.append(tgt)
            weights.append((tgt.sum(dim=1) > 0).float())
        return targets, weights

    def similarities(self, key_embeds: Tensor,
                     ref_embeds: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Dot-product (or tempered cosine) and cosine similarity matrices."""
        cos = F.normalize(key_embeds, p=2, dim=1).mm(
            F.normalize(ref_embeds, p=2, dim=1).t())
        if self.softmax_temp > 0:
            dist = cos / self.softmax_temp
        else:
            dist = key_embeds.mm(ref_embeds.t())
        return dist, (cos if self.loss_track_aux is not None else None)

    def loss(self, key_embeds: Sequence[Tensor], ref_embeds: Sequence[Tensor],
             targets: Sequence[Tensor],
             weights: Sequence[Tensor]) -> Dict[str, Tensor]:
        """Average over images of the two association losses (float32, also
        under autocast)."""
        if key_embeds:
            with float32_region(key_embeds[0].device):
                return self._loss(to_float32(list(key_embeds)),
                                  to_float32(list(ref_embeds)), targets,
                                  weights)
        return self._loss(key_embeds, ref_embeds, targets, weights)

    def _loss(self, key_embeds: Sequence[Tensor],
              ref_embeds: Sequence[Tensor], targets: Sequence[Tensor],
              weights: Sequence[Tensor]) -> Dict[str, Tensor]:
        loss_track = 0.
        loss_aux = 0.
        for key, ref, tgt, w in zip(key_embeds, ref_embeds, targets, weights):
            dist, cos = self.similarities(key, ref)
            if dist.numel() == 0:
                # no positive kernel pair: zero loss that keeps the graph
                loss_track = loss_track + key.sum() * 0 + ref.sum() * 0
                loss_aux = loss_aux + key.sum() * 0 + ref.sum() * 0
                continue
            loss_track = loss_track + self.loss_track(
                dist, tgt, w, avg_factor=w.sum())
            if self.loss_track_aux is not None:
                loss_aux = loss_aux + self.loss_track_aux(cos, tgt)
        n = max(len(key_embeds), 1)
        losses = dict(loss_track=loss_track / n)
        if self.loss_track_aux is not None:
            losses['loss_track_aux'] = loss_aux / n
        return losses
