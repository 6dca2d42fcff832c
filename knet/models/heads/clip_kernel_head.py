"""Video K-Net's clip kernel head for video instance segmentation.

The image K-Net runs on every frame of a clip; its last-stage kernels
``[B, F, N, C, K, K]`` are fused into one kernel per slot for the whole clip
(mean over frames, the release's ``query_merge_method='mean'``). Then:

* the first ``num_clip_stages`` stages update and classify the CLIP kernels:
  every frame's features are pooled under that frame's hard masks, the pooled
  features are averaged over the frames, the clip kernels are updated with
  them (kernel updater, self-attention, FFN) and predict class logits and one
  dynamic mask kernel that is applied to every frame;
* the remaining stages copy the clip kernels to every frame and update them
  per frame (no classifier): the last one gives the per-frame masks.

Training: tube-level Hungarian assignment of the N kernels to the GT tubes on
frame-concatenated masks ``[N, F*H, W]`` (focal 2 / dice 4 / mask 1, mmdet's
``HungarianAssigner`` with the K-Net match costs). A classifying stage is
assigned on its OWN detached predictions (as the release's tracker); later
stages reuse the last assignment. Losses per stage: focal classification
(classifying stages), BCE and dice on the frame-concatenated masks of the
positive kernels.

Inference: classes from the last classifying stage, masks from the last stage;
top-k (kernel, class) pairs of the clip.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule, bias_init_with_prob
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.losses import accuracy
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.utils import reduce_mean
from ..layers.dynamic_conv import apply_dynamic_kernels
from ..layers.precision import float32_region, to_float32
from .kernel_update_head import KernelUpdateHead

__all__ = [
    'ClipKernelUpdateHead', 'ClipKernelHead', 'TubeTargets', 'fuse_kernels',
    'frames_to_tube', 'build_tube_targets'
]


class TubeTargets(NamedTuple):
    """Ground-truth tubes of one clip.

    ``masks`` float [n, F, h, w] (zero on frames where the object is absent),
    ``labels`` long [n], ``instances_ids`` long [n].
    """
    masks: Tensor
    labels: Tensor
    instances_ids: Tensor


def fuse_kernels(obj_feats: Tensor, method: str = 'mean') -> Tensor:
    """Per-frame kernels [B, F, N, C, K, K] -> clip kernels [B, N, C, K, K]
    (the release's ``query_merge_method='mean'``)."""
    if method != 'mean':
        raise ValueError(f'unsupported kernel fusion {method!r}')
    return obj_feats.mean(1)


def frames_to_tube(masks: Tensor) -> Tensor:
    """[..., F, N, H, W] per-frame masks -> [..., N, F*H, W] (frames stacked
    along the height, the release's frame concatenation)."""
    f, n, h, w = masks.shape[-4:]
    lead = masks.shape[:-4]
    x = masks.movedim(-3, -4)  # [..., N, F, H, W]
    return x.reshape(*lead, n, f * h, w)


def build_tube_targets(frame_things: Sequence[InstanceData]) -> TubeTargets:
    """Join per-frame thing targets (``masks`` [n_t, h, w], ``labels``,
    ``instances_ids``) of one clip into GT tubes, one per instance id, in
    ascending id order. A tube takes the label of its first visible frame."""
    num_frames = len(frame_things)
    h, w = frame_things[0].masks.shape[-2:]
    ref = frame_things[0].masks
    all_ids = torch.cat([t.instances_ids.long().to(ref.device)
                         for t in frame_things])
    ids = torch.unique(all_ids)  # sorted
    masks = ref.new_zeros((ids.numel(), num_frames, h, w))
    labels = torch.full((ids.numel(), ), -1, dtype=torch.long,
                        device=ref.device)
    for f in reversed(range(num_frames)):  # earliest frame's label wins
        t = frame_things[f]
        if len(t) == 0:
            continue
        idx = torch.searchsorted(ids, t.instances_ids.long().to(ref.device))
        masks[idx, f] = t.masks.to(masks.dtype)
        labels[idx] = t.labels.long().to(ref.device)
    return TubeTargets(masks=masks, labels=labels, instances_ids=ids)


@MODELS.register_module()
class ClipKernelUpdateHead(KernelUpdateHead):
    """One stage of the clip head (see module doc); the module names are
    those of :class:`KernelUpdateHead` (the release's tracker stages).

    Args:
        with_cls (bool): a clip stage (clip kernels, classifier) if True,
            else a per-frame stage without classifier.
        **kwargs: :class:`KernelUpdateHead` arguments.
    """

    def __init__(self, with_cls: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.with_cls = with_cls
        if not with_cls:
            del self.cls_fcs
            del self.fc_cls

    def init_weights(self) -> None:
        BaseModule.init_weights(self)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        if self.with_cls and getattr(self.loss_cls, 'use_sigmoid', True):
            nn.init.constant_(self.fc_cls.bias, bias_init_with_prob(0.01))
        if self.kernel_init:
            nn.init.normal_(self.fc_mask.weight, mean=0, std=0.01)

    def _update(self, x_feat: Tensor, kernels: Tensor) -> Tensor:
        """Kernel updater + self-attention + FFN.

        ``x_feat`` [M, N, C] pooled features, ``kernels`` [M, N, C, K, K]
        -> [M, N, K*K, C]."""
        m, n = kernels.shape[:2]
        kernels = kernels.reshape(m, n, self.in_channels,
                                  -1).permute(0, 1, 3, 2)
        obj = self.kernel_update_conv(x_feat, kernels)
        obj = obj.reshape(m, n, -1).permute(1, 0, 2)
        obj = self.attention_norm(self.attention(obj))
        obj = obj.permute(1, 0, 2).reshape(m, n, -1, self.in_channels)
        if self.with_ffn:
            obj = self.ffn_norm(self.ffn(obj))
        return obj

    def _masks(self, obj: Tensor, x: Tensor) -> Tensor:
        """Dynamic mask kernels of ``obj`` [M, N, K*K, C] applied to ``x``
        [M, C, h, w] -> [M, N, h, w]."""
        m, n = obj.shape[:2]
        c = x.shape[-3]
        mask_feat = obj
        for layer in self.mask_fcs:
            mask_feat = layer(mask_feat)
        k = self.conv_kernel_size
        weight = self.fc_mask(mask_feat).permute(0, 1, 3, 2).reshape(
            m, n, c, k, k)
        return apply_dynamic_kernels(x, weight)

    def forward_clip(self, x: Tensor, kernels: Tensor,
                     mask_preds: Tensor) -> Dict[str, Optional[Tensor]]:
        """Run the stage on a clip.

        Args:
            x: [B, F, C, h, w] features of every frame.
            kernels: clip kernels [B, N, C, K, K] (clip stage) or per-frame
                kernels [B, F, N, C, K, K].
            mask_preds: [B, F, N, h', w'] mask logits of the previous stage.

        Returns:
            ``cls_score`` [B, N, num_classes] (None for a per-frame stage),
            ``mask_preds`` [B, F, N, h, w], ``object_feats`` (clip
            [B, N, C, K, K] or per-frame [B, F, N, C, K, K]),
            ``masked_pool_feats`` [B, F, N, C].
        """
        b, f = x.shape[:2]
        n = mask_preds.shape[2]
        k = self.conv_kernel_size
        xf = x.flatten(0, 1)
        if self.feat_transform is not None:
            xf = self.feat_transform(xf)
        c, h, w = xf.shape[-3:]
        masks = mask_preds.flatten(0, 1)
        if masks.shape[-2:] != (h, w):
            masks = F.interpolate(
                masks, (h, w), mode='bilinear', align_corners=False)
        hard = (masks.sigmoid() > self.hard_mask_thr).to(xf.dtype)
        pooled = torch.einsum('bnhw,bchw->bnc', hard, xf).reshape(b, f, n, c)

        cls_score = None
        if self.with_cls:
            assert kernels.dim() == 5, 'a clip stage takes clip kernels'
            obj = self._update(pooled.mean(1), kernels)  # [B, N, KK, C]
            cls_feat = obj.sum(-2)
            for layer in self.cls_fcs:
                cls_feat = layer(cls_feat)
            cls_score = self.fc_cls(cls_feat).view(b, n, -1)
            frame_obj = obj[:, None].expand(b, f, *obj.shape[1:]).flatten(
                0, 1)
            object_feats = obj.permute(0, 1, 3, 2).reshape(
                b, n, self.in_channels, k, k)
        else:
            assert kernels.dim() == 6, 'a frame stage takes frame kernels'
            frame_obj = self._update(pooled.flatten(0, 1),
                                     kernels.flatten(0, 1))
            object_feats = frame_obj.permute(0, 1, 3, 2).reshape(
                b, f, n, self.in_channels, k, k)
        new_masks = self._masks(frame_obj, xf).reshape(b, f, n, h, w)
        return dict(
            cls_score=cls_score,
            mask_preds=new_masks,
            object_feats=object_feats,
            masked_pool_feats=pooled)


@MODELS.register_module()
class ClipKernelHead(BaseModule):
    """Clip-level kernel fusion, update and tube supervision (module doc).

    Args:
        num_stages (int): stages in total (3 in the release).
        num_clip_stages (int): leading stages that work on clip kernels and
            classify (the release's ``assign_stages`` = 2).
        stage_loss_weights (sequence): per-stage loss weights.
        num_proposals (int): N kernels.
        num_classes (int): thing classes (40 for YouTube-VIS).
        mask_head (dict | list): :class:`ClipKernelUpdateHead` config(s);
            ``with_cls`` is set per stage from ``num_clip_stages``.
        fusion (str): kernel fusion over frames ('mean').
        assigner (dict): tube assigner (mmdet HungarianAssigner + costs).
        test_cfg (dict): ``max_per_video`` (10), ``mask_thr`` (0.5); an
            unknown key is an error.
    """

    def __init__(self,
                 num_stages: int = 3,
                 num_clip_stages: int = 2,
                 stage_loss_weights: Sequence[float] = (1., 1., 1.),
                 num_proposals: int = 100,
                 num_classes: int = 40,
                 mask_head: dict = dict(type='ClipKernelUpdateHead'),
                 fusion: str = 'mean',
                 assigner: dict = dict(
                     type='HungarianAssigner',
                     match_costs=[
                         dict(type='KNetFocalLossCost', weight=2.0),
                         dict(type='KNetMaskCost', weight=1.0,
                              pred_act=True),
                         dict(type='KNetDiceCost', weight=4.0,
                              pred_act=True)
                     ]),
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        assert len(stage_loss_weights) == num_stages
        assert 1 <= num_clip_stages <= num_stages
        self.num_stages = num_stages
        self.num_clip_stages = num_clip_stages
        self.stage_loss_weights = list(stage_loss_weights)
        self.num_proposals = num_proposals
        self.num_classes = num_classes
        self.fusion = fusion
        self.test_cfg = dict(max_per_video=10, mask_thr=0.5)
        unknown = sorted(set(test_cfg or {}) - set(self.test_cfg))
        if unknown:
            raise TypeError('ClipKernelHead test_cfg: unknown key(s) ' +
                            ', '.join(unknown) + ' (known: ' +
                            ', '.join(self.test_cfg) + ')')
        self.test_cfg.update(test_cfg or {})
        if not isinstance(mask_head, (list, tuple)):
            mask_head = [mask_head for _ in range(num_stages)]
        assert len(mask_head) == num_stages
        heads = []
        for i, cfg in enumerate(mask_head):
            cfg = dict(cfg)
            cfg['with_cls'] = i < num_clip_stages
            heads.append(MODELS.build(cfg))
        self.mask_head = nn.ModuleList(heads)
        self.assigner = TASK_UTILS.build(assigner)

    def init_weights(self) -> None:
        """Initialise every stage (``nn.ModuleList`` children are not
        reached by mmengine's recursive ``init_weights``)."""
        super().init_weights()
        for head in self.mask_head:
            head.init_weights()

    # ------------------------------------------------------------------ #
    def forward(self, x_feats: Tensor, obj_feats: Tensor,
                mask_preds: Tensor) -> List[Dict[str, Optional[Tensor]]]:
        """Run every stage.

        Args:
            x_feats: [B, F, C, h, w] features (the kernel head's
                ``x_feats`` of every frame).
            obj_feats: [B, F, N, C, K, K] last image-stage kernels.
            mask_preds: [B, F, N, h, w] last image-stage mask logits.

        Returns:
            One dict per stage (:meth:`ClipKernelUpdateHead.forward_clip`)
            plus ``scaled_mask_preds`` (mask logits upsampled by the stage's
            ``mask_upsample_stride``).
        """
        kernels = fuse_kernels(obj_feats, self.fusion)
        f = x_feats.shape[1]
        outputs = []
        for stage, head in enumerate(self.mask_head):
            if stage == self.num_clip_stages:
                kernels = kernels[:, None].expand(-1, f, *kernels.shape[1:])
            out = head.forward_clip(x_feats, kernels, mask_preds)
            mp = out['mask_preds']
            if head.mask_upsample_stride > 1 and (
                    self.training or stage == self.num_stages - 1):
                b, f_, n, h, w = mp.shape
                out['scaled_mask_preds'] = F.interpolate(
                    mp.flatten(0, 1), scale_factor=head.mask_upsample_stride,
                    mode='bilinear', align_corners=False).reshape(
                        b, f_, n, h * head.mask_upsample_stride,
                        w * head.mask_upsample_stride)
            else:
                out['scaled_mask_preds'] = mp
            outputs.append(out)
            kernels = out['object_feats']
            mask_preds = mp
        return outputs

    def last_cls_score(self, outputs: List[Dict]) -> Tensor:
        """Class logits of the last classifying stage [B, N, num_classes]."""
        return outputs[self.num_clip_stages - 1]['cls_score']

    # ------------------------------------------------------------------ #
    def assign(self, scaled_masks: Tensor, cls_score: Optional[Tensor],
               tube: TubeTargets):
        """Tube-level Hungarian assignment of one clip.

        Args:
            scaled_masks: [F, N, H, W] mask logits at the target resolution.
            cls_score: [N, num_classes] logits or None (no class cost).
            tube: GT tubes (masks [n, F, H, W]).

        Returns:
            mmdet ``AssignResult`` over the N kernels.
        """
        pred = InstanceData(masks=frames_to_tube(scaled_masks.detach()))
        if cls_score is not None:
            pred.scores = cls_score.detach()
        gt = InstanceData(
            masks=tube.masks.flatten(1, 2) if tube.masks.numel() else
            tube.masks.new_zeros((0, *pred.masks.shape[1:])),
            labels=tube.labels)
        return self.assigner.assign(pred, gt)

    def loss(self, outputs: List[Dict[str, Tensor]],
             tubes: Sequence[TubeTargets]) -> Dict[str, Tensor]:
        """Losses of every stage: ``tracker_s{i}_loss_cls`` and
        ``tracker_s{i}_pos_acc`` (classifying stages),
        ``tracker_s{i}_loss_mask``, ``tracker_s{i}_loss_dice`` (x stage
        weight)."""
        losses = {}
        assigns = None
        for stage, out in enumerate(outputs):
            head = self.mask_head[stage]
            # assignment and losses in float32 (also under autocast)
            scaled = to_float32(out['scaled_mask_preds'])  # [B, F, N, H, W]
            cls = to_float32(out['cls_score'])
            with float32_region(scaled.device):
                if stage < self.num_clip_stages or assigns is None:
                    assigns = [
                        self.assign(scaled[i],
                                    None if cls is None else cls[i], tube)
                        for i, tube in enumerate(tubes)
                    ]
                stage_loss = self._stage_loss(head, cls, scaled, assigns,
                                              tubes)
            for key, value in stage_loss.items():
                losses[f'tracker_s{stage}_{key}'] = \
                    value * self.stage_loss_weights[stage]
        return losses

    def _stage_loss(self, head: ClipKernelUpdateHead, cls: Optional[Tensor],
                    scaled: Tensor, assigns: Sequence,
                    tubes: Sequence[TubeTargets]) -> Dict[str, Tensor]:
        b, f, n, h, w = scaled.shape
        pred_tubes = frames_to_tube(scaled)  # [B, N, F*H, W]
        labels = torch.full((b, n), self.num_classes, dtype=torch.long,
                            device=scaled.device)
        pos_pred, pos_tgt = [], []
        for i, (res, tube) in enumerate(zip(assigns, tubes)):
            pos = torch.nonzero(res.gt_inds > 0).flatten()
            gt_idx = res.gt_inds[pos] - 1
            labels[i, pos] = tube.labels[gt_idx]
            pos_pred.append(pred_tubes[i, pos])
            pos_tgt.append(tube.masks[gt_idx].flatten(1, 2))
        labels = labels.flatten()
        pos = labels < self.num_classes
        avg_factor = reduce_mean(pos.sum().float()).clamp_(min=1.0)
        losses = {}
        if cls is not None:
            flat_cls = cls.reshape(b * n, -1)
            losses['loss_cls'] = head.loss_cls(
                flat_cls, labels, torch.ones_like(flat_cls),
                avg_factor=avg_factor)
            losses['pos_acc'] = accuracy(flat_cls[pos], labels[pos])
        pred_m = torch.cat(pos_pred)
        tgt_m = torch.cat(pos_tgt).to(pred_m.dtype)
        if pred_m.shape[0] > 0:
            losses['loss_mask'] = head.loss_mask(pred_m, tgt_m)
            losses['loss_dice'] = head.loss_dice(pred_m, tgt_m)
        else:
            zero = scaled.sum() * 0
            losses['loss_mask'] = zero
            losses['loss_dice'] = zero
        return losses
