"""K-Net's kernel head ("RPN"): initial thing/stuff kernels and masks.

From the semantic FPN outputs ``[loc, sem]``:
``loc_feats = loc_convs(loc)``, ``sem_feats = seg_convs(sem)``,
``x_feats = sem_feats + loc_feats``. The P learned thing kernels
(``init_kernels``, a 1x1 conv) applied to ``loc_feats`` give the initial thing
masks; ``conv_seg`` (the semantic classifier) gives ``seg_preds`` and its rows
for the stuff classes serve as the stuff kernels. Thing kernels get the sum of
``x_feats`` over their hard masks (sigmoid > 0.5) added.

Training losses (thing kernels only, Hungarian-assigned without class cost):
mask BCE, dice, rank (per-pixel softmax over thing masks, target = index of
the matched kernel covering the pixel) and the semantic loss on
``seg_preds`` (softmax CE with ignore, averaged over ALL pixels as the
release, or sigmoid focal averaged over labelled pixels).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, bias_init_with_prob, normal_init
from torch import Tensor

from mmdet.registry import MODELS, TASK_UTILS
from ..layers.kernel_targets import (KernelTargets, last_cover_index,
                                     target_batch)
from ..layers.precision import float32_region, to_float32
from ..losses.kernel_mask_losses import kernel_mask_losses
from ..task_modules.kernel_assignment import KernelAssignment, assign_kernels

__all__ = ['ConvKernelHead']


@MODELS.register_module()
class ConvKernelHead(BaseModule):
    """Initial kernels and masks of K-Net (see module doc).

    Args:
        num_proposals (int): number of thing kernels P.
        in_channels (int), out_channels (int): feature channels C.
        num_thing_classes (int), num_stuff_classes (int): T, S.
        num_classes (int, optional): classes of ``conv_seg`` (T + S).
        conv_kernel_size (int): K of the kernels (1).
        num_loc_convs (int), num_seg_convs (int): 1x1 ConvModules per branch.
        norm_cfg (dict): norm of those convs (GN 32).
        feat_downsample_stride (int): upsampling of the mask logits for
            assignment and losses (mask stride / assignment stride).
        kernel_init_std (float): std of the normal init of the kernels.
        xavier_init_kernel (bool): xavier init of the kernels instead.
        conv_normal_init (bool): normal(0.01) init of loc/seg convs.
        use_binary (bool): pool with hard masks (else mask * probability).
        proposal_feats_with_obj (bool): add pooled features to the kernels.
        cat_stuff_mask (bool): append stuff kernels / masks (panoptic).
        ignore_index (int): ignore label of the rank loss.
        loss_mask, loss_dice, loss_rank, loss_seg (dict): loss configs.
        assigner (dict): HungarianAssigner config (class cost unused here).
    """

    def __init__(self,
                 num_proposals: int = 100,
                 in_channels: int = 256,
                 out_channels: int = 256,
                 num_thing_classes: int = 80,
                 num_stuff_classes: int = 53,
                 num_classes: Optional[int] = None,
                 conv_kernel_size: int = 1,
                 num_loc_convs: int = 1,
                 num_seg_convs: int = 1,
                 norm_cfg: dict = dict(type='GN', num_groups=32),
                 semantic_fpn: bool = True,
                 feat_downsample_stride: int = 2,
                 kernel_init_std: float = 1.0,
                 xavier_init_kernel: bool = False,
                 conv_normal_init: bool = True,
                 use_binary: bool = True,
                 proposal_feats_with_obj: bool = True,
                 cat_stuff_mask: bool = True,
                 ignore_index: int = 255,
                 loss_mask: Optional[dict] = dict(
                     type='CrossEntropyLoss', use_sigmoid=True,
                     loss_weight=1.0),
                 loss_dice: Optional[dict] = dict(
                     type='DiceLoss', loss_weight=4.0),
                 loss_rank: Optional[dict] = dict(
                     type='CrossEntropyLoss', use_sigmoid=False,
                     loss_weight=0.1),
                 loss_seg: Optional[dict] = dict(
                     type='CrossEntropyLoss', use_sigmoid=False,
                     loss_weight=1.0),
                 assigner: Optional[dict] = dict(
                     type='HungarianAssigner',
                     match_costs=[
                         dict(type='KNetFocalLossCost', weight=2.0),
                         dict(type='KNetMaskCost', weight=1.0, pred_act=True),
                         dict(type='KNetDiceCost', weight=4.0, pred_act=True)
                     ]),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_proposals = num_proposals
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_thing_classes = num_thing_classes
        self.num_stuff_classes = num_stuff_classes
        self.num_classes = num_classes if num_classes is not None else \
            num_thing_classes + num_stuff_classes
        self.conv_kernel_size = conv_kernel_size
        self.semantic_fpn = semantic_fpn
        self.feat_downsample_stride = feat_downsample_stride
        self.kernel_init_std = kernel_init_std
        self.xavier_init_kernel = xavier_init_kernel
        self.conv_normal_init = conv_normal_init
        self.use_binary = use_binary
        self.proposal_feats_with_obj = proposal_feats_with_obj
        self.cat_stuff_mask = cat_stuff_mask
        self.ignore_index = ignore_index

        self.loss_mask = MODELS.build(loss_mask) if loss_mask else None
        self.loss_dice = MODELS.build(loss_dice) if loss_dice else None
        self.loss_rank = MODELS.build(loss_rank) if loss_rank else None
        self.loss_seg = MODELS.build(loss_seg) if loss_seg else None
        self.assigner = TASK_UTILS.build(assigner) if assigner else None

        self.init_kernels = nn.Conv2d(
            out_channels, num_proposals, conv_kernel_size,
            padding=conv_kernel_size // 2, bias=False)
        if semantic_fpn:
            self.conv_seg = nn.Conv2d(out_channels, self.num_classes, 1)
        self.loc_convs = nn.ModuleList([
            ConvModule(in_channels if i == 0 else out_channels,
                       out_channels, 1, norm_cfg=norm_cfg)
            for i in range(num_loc_convs)
        ])
        self.seg_convs = nn.ModuleList([
            ConvModule(in_channels if i == 0 else out_channels,
                       out_channels, 1, norm_cfg=norm_cfg)
            for i in range(num_seg_convs)
        ])

    def init_weights(self) -> None:
        """Initialisation of the release."""
        super().init_weights()
        if self.feat_downsample_stride > 1 and self.conv_normal_init:
            for m in list(self.loc_convs.modules()) + list(
                    self.seg_convs.modules()):
                if isinstance(m, nn.Conv2d):
                    normal_init(m, std=0.01)
        if self.semantic_fpn:
            if self.loss_seg is not None and getattr(self.loss_seg,
                                                     'use_sigmoid', False):
                normal_init(
                    self.conv_seg, std=0.01, bias=bias_init_with_prob(0.01))
            else:
                normal_init(self.conv_seg, mean=0, std=0.01)
        if self.xavier_init_kernel:
            nn.init.xavier_uniform_(self.init_kernels.weight)
        else:
            normal_init(self.init_kernels, mean=0, std=self.kernel_init_std)

    # ------------------------------------------------------------------ #
    def forward(self, feats: Sequence[Tensor]) -> Dict[str, Optional[Tensor]]:
        """Initial kernels and masks.

        Args:
            feats: semantic FPN outputs ``[loc, sem]`` (or one tensor used
                for both), each [B, C, h, w].

        Returns:
            dict with ``proposal_feats`` [B, N, C, K, K], ``x_feats``
            [B, C, h, w], ``mask_preds`` [B, N, h, w], ``thing_mask_preds``
            [B, P, h, w], ``seg_preds`` [B, num_classes, h, w] (or None),
            ``cls_scores`` None. N = P + S with ``cat_stuff_mask``, else P.
        """
        if isinstance(feats, Tensor):
            feats = [feats]
        loc_feats = feats[0]
        for conv in self.loc_convs:
            loc_feats = conv(loc_feats)
        mask_preds = self.init_kernels(loc_feats)
        num_imgs = mask_preds.shape[0]

        seg_preds = sem_feats = None
        if self.semantic_fpn:
            sem_feats = feats[1] if len(feats) > 1 else feats[0]
            for conv in self.seg_convs:
                sem_feats = conv(sem_feats)
            seg_preds = self.conv_seg(sem_feats)
        x_feats = loc_feats if sem_feats is None else sem_feats + loc_feats

        proposal_feats = self.init_kernels.weight.clone()
        proposal_feats = proposal_feats[None].expand(num_imgs,
                                                     *proposal_feats.size())
        if self.proposal_feats_with_obj:
            hard = mask_preds.sigmoid() > 0.5
            weights = hard.to(x_feats.dtype) if self.use_binary else \
                hard.to(x_feats.dtype) * mask_preds.sigmoid()
            obj_feats = torch.einsum('bnhw,bchw->bnc', weights, x_feats)
            proposal_feats = proposal_feats + obj_feats.view(
                num_imgs, self.num_proposals, self.out_channels, 1, 1)

        thing_mask_preds = mask_preds
        if self.cat_stuff_mask:
            tc = self.num_thing_classes
            mask_preds = torch.cat([mask_preds, seg_preds[:, tc:]], dim=1)
            stuff_kernels = self.conv_seg.weight[tc:].clone()
            stuff_kernels = stuff_kernels[None].expand(num_imgs,
                                                       *stuff_kernels.size())
            proposal_feats = torch.cat([proposal_feats, stuff_kernels], dim=1)
        return dict(
            proposal_feats=proposal_feats,
            x_feats=x_feats,
            mask_preds=mask_preds,
            thing_mask_preds=thing_mask_preds,
            seg_preds=seg_preds,
            cls_scores=None)

    # ------------------------------------------------------------------ #
    def _upsample(self, x: Tensor) -> Tensor:
        if self.feat_downsample_stride > 1:
            return F.interpolate(
                x, scale_factor=self.feat_downsample_stride, mode='bilinear',
                align_corners=False)
        return x

    def assign(self, mask_preds: Tensor, targets: Sequence[KernelTargets],
               batch_img_metas: Optional[Sequence[dict]] = None
               ) -> KernelAssignment:
        """Hungarian-assign the P thing kernels of each image (no class
        cost; batched, one host copy). ``mask_preds`` [B, P, H, W] at the
        target resolution. Returns one ``AssignResult`` per image."""
        return assign_kernels([self.assigner], [(mask_preds, None)], targets,
                              batch_img_metas)[0]

    def get_targets(self, assign_results: Sequence,
                    targets: Sequence[KernelTargets], num_preds: int,
                    mask_shape: Tuple[int, int]) -> Tuple[Tensor, ...]:
        """Per-kernel labels / mask targets and per-pixel semantic targets.

        Returns ``labels [B*P]`` (num_classes = negative), ``mask_targets
        [B*P, H, W]``, ``seg_targets [B, H, W]`` (num_classes = unlabelled:
        stuff masks painted first in label order, then the matched things in
        kernel order; any nonzero soft coverage counts). Built for the whole
        batch from the assignment's positives (no device sync).
        """
        batch = target_batch(targets)
        assign = KernelAssignment.from_results(assign_results, batch.device)
        assert assign.host_gt_inds.shape[1] == num_preds
        assert tuple(batch.mask_shape) == tuple(mask_shape)
        labels, mask_targets = batch.assigned_things(assign,
                                                     self.num_classes)
        # matched things over stuff: the last covering kernel wins
        thing_idx = last_cover_index((mask_targets > 0).transpose(0, 1))
        seg = torch.full_like(thing_idx, self.num_classes)
        if num_preds:
            seg = torch.where(
                thing_idx >= 0,
                labels.gather(1, thing_idx.clamp(min=0).flatten(1)).view_as(
                    thing_idx), seg)
        for i, tgt in enumerate(targets):
            if tgt.stuff is None or len(tgt.stuff) == 0:
                continue
            stuff_idx = last_cover_index(tgt.stuff.masks > 0)
            stuff = torch.where(
                stuff_idx >= 0,
                tgt.stuff.labels.long()[stuff_idx.clamp(min=0)],
                torch.full_like(stuff_idx, self.num_classes))
            seg[i] = torch.where(thing_idx[i] >= 0, seg[i], stuff)
        return labels.flatten(), mask_targets.flatten(0, 1), seg

    def loss(self,
             outputs: Dict[str, Optional[Tensor]],
             targets: Sequence[KernelTargets],
             batch_img_metas: Optional[Sequence[dict]] = None
             ) -> Tuple[Dict[str, Tensor], List]:
        """Losses of the kernel head.

        Returns ``(losses, assign_results)``: keys ``loss_rpn_mask``,
        ``loss_rpn_dice``, ``loss_rpn_rank`` (if configured),
        ``loss_rpn_seg`` (if semantic); one mmdet ``AssignResult`` per
        image over the P thing kernels.
        """
        mask_pred = self._upsample(outputs['thing_mask_preds'])
        seg_preds = outputs['seg_preds']
        num_imgs, num_preds, h, w = mask_pred.shape
        assign_results = self.assign(mask_pred, targets, batch_img_metas)
        labels, mask_targets, seg_targets = self.get_targets(
            assign_results, targets, num_preds, (h, w))
        with float32_region(mask_pred.device):
            losses = self._losses(
                to_float32(mask_pred), to_float32(seg_preds), labels,
                mask_targets, seg_targets,
                assign_results.pos_img * num_preds +
                assign_results.pos_kernel, assign_results.num_pos)
        return losses, assign_results

    def _losses(self, mask_pred: Tensor, seg_preds: Optional[Tensor],
                labels: Tensor, mask_targets: Tensor, seg_targets: Tensor,
                pos_inds: Tensor, num_pos: int) -> Dict[str, Tensor]:
        """The loss terms, in float32; ``pos_inds`` [num_pos] are the
        positive rows of ``labels`` in ascending order."""
        num_imgs = mask_pred.shape[0]
        losses = dict()
        pos = labels < self.num_classes
        for key, value in kernel_mask_losses(
                mask_pred, mask_targets, pos, pos_inds, num_pos,
                self.loss_mask, self.loss_dice, self.loss_rank,
                self.ignore_index).items():
            losses[f'loss_rpn_{key}'] = value

        if seg_preds is not None and self.loss_seg is not None:
            seg_preds = self._upsample(seg_preds)
            num_cls = seg_preds.shape[1]
            flat_seg = seg_preds.reshape(num_imgs, num_cls, -1).permute(
                0, 2, 1).reshape(-1, num_cls)
            flat_tgt = seg_targets.view(-1)
            if getattr(self.loss_seg, 'use_sigmoid', False):
                num_dense_pos = (flat_tgt < self.num_classes).sum().float()
                losses['loss_rpn_seg'] = self.loss_seg(
                    flat_seg, flat_tgt,
                    avg_factor=num_dense_pos.clamp(min=1.0))
            else:
                losses['loss_rpn_seg'] = self.loss_seg(
                    flat_seg, flat_tgt, ignore_index=self.num_classes)
        return losses
