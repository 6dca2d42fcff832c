"""One K-Net kernel update stage (+ Video K-Net's links to previous kernels).

Per stage (all kernels of an image at once):

1. ``feat_transform`` (1x1 conv) on the stride-8 features;
2. group features: sum of features over each kernel's hard mask
   (sigmoid(previous mask logits) > ``hard_mask_thr``);
3. :class:`KernelUpdator` (gated update of kernel by group feature);
4. self-attention over the kernels (mmcv ``MultiheadAttention``, with
   residual) + LN, FFN + LN;
5. class logits from Linear-LN-ReLU-Linear; dynamic 1x1 mask kernel from
   Linear-LN-ReLU-Linear applied to the transformed features.

Video K-Net options:

* ``previous_type='ffn'`` (kernel linking, KL): the updated kernels
  cross-attend (``attention_previous``, 8 heads) to the previous frame's kernels, + LN, then
  ``link_ffn`` + LN -> ``object_feats_track`` (used only for the association
  embedding; classes and masks come from the unlinked kernels).
* ``previous_type='update'`` (the release's Swin KITTI-STEP models): as
  'ffn', but the previous kernels are first updated with the current
  frame's group features by a second updator
  (``attention_previous_update_track``); then ``attention_previous_track``
  + LN, ``link_ffn_track`` + LN. The release reshapes the updator's
  [B*N, K*K, C] output as [B, N, C, K*K] before transposing it (kept; the
  identity for the released K = 1).
* ``previous_link='update_dynamic_cov'`` (kernel fusion, KF): before the
  update, the previous kernels are updated by a second updator with the
  current group features, the current kernels attend to them (+ LN, FFN + LN)
  and the result replaces the input kernels.
"""
from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_activation_layer, build_norm_layer
from mmcv.cnn.bricks.transformer import FFN, MultiheadAttention
from mmengine.model import BaseModule, bias_init_with_prob
from torch import Tensor

from mmdet.models.losses import accuracy
from mmdet.registry import MODELS
from mmdet.utils import reduce_mean
from ..layers.dynamic_conv import apply_dynamic_kernels
from ..layers.kernel_targets import target_batch
from ..layers.transfer import host_to_device
from ..losses.kernel_mask_losses import kernel_mask_losses
from ..task_modules.kernel_assignment import KernelAssignment

__all__ = ['KernelUpdateHead', 'StageTargets']


class StageTargets(NamedTuple):
    """Per-kernel targets of a batch for one stage (rows = B*N kernels).

    ``pos_inds`` [num_pos]: the positive rows (``labels < num_classes``) in
    ascending order, found on the host from the assignment; ``num_pos``:
    their number (a host int, so the losses need no device sync)."""
    labels: Tensor
    label_weights: Tensor
    mask_targets: Tensor
    pos_inds: Tensor
    num_pos: int


@MODELS.register_module()
class KernelUpdateHead(BaseModule):
    """K-Net kernel update head (one stage); see module doc.

    Args:
        num_classes (int): classes (sigmoid, no background logit).
        num_thing_classes (int), num_stuff_classes (int): T, S.
        num_ffn_fcs (int), num_heads (int), num_cls_fcs (int),
        num_mask_fcs (int), feedforward_channels (int), in_channels (int),
        out_channels (int), dropout (float): transformer parts.
        conv_kernel_size (int): K of the dynamic mask kernels.
        feat_transform_cfg (dict, optional): ConvModule kwargs of
            ``feat_transform`` (None: no transform).
        hard_mask_thr (float): threshold of sigmoid masks for pooling.
        mask_upsample_stride (int): upsampling of the mask logits for losses
            (and the final masks at test time).
        kernel_updator_cfg (dict): :class:`KernelUpdator` config.
        previous_type (str, optional): 'ffn' or 'update' builds the
            linking modules (module doc).
        previous_link (str, optional): 'update_dynamic_cov' builds the kernel
            fusion modules.
        link_num_heads (int): heads of the link attentions (8 in the
            release, hard-coded there).
        loss_cls, loss_mask, loss_dice, loss_rank (dict): losses.
    """

    def __init__(self,
                 num_classes: int = 80,
                 num_thing_classes: int = 80,
                 num_stuff_classes: int = 53,
                 num_ffn_fcs: int = 2,
                 num_heads: int = 8,
                 num_cls_fcs: int = 1,
                 num_mask_fcs: int = 1,
                 feedforward_channels: int = 2048,
                 in_channels: int = 256,
                 out_channels: int = 256,
                 dropout: float = 0.0,
                 act_cfg: dict = dict(type='ReLU', inplace=True),
                 ffn_act_cfg: dict = dict(type='ReLU', inplace=True),
                 conv_kernel_size: int = 1,
                 feat_transform_cfg: Optional[dict] = dict(
                     conv_cfg=dict(type='Conv2d'), act_cfg=None),
                 hard_mask_thr: float = 0.5,
                 kernel_init: bool = False,
                 with_ffn: bool = True,
                 feat_gather_stride: int = 1,
                 mask_transform_stride: int = 1,
                 mask_upsample_stride: int = 2,
                 ignore_index: int = 255,
                 previous_type: Optional[str] = None,
                 previous_link: Optional[str] = None,
                 link_num_heads: int = 8,
                 kernel_updator_cfg: dict = dict(
                     type='KernelUpdator',
                     in_channels=256,
                     feat_channels=256,
                     out_channels=256,
                     act_cfg=dict(type='ReLU', inplace=True),
                     norm_cfg=dict(type='LN')),
                 loss_cls: dict = dict(
                     type='FocalLoss', use_sigmoid=True, gamma=2.0,
                     alpha=0.25, loss_weight=2.0),
                 loss_mask: dict = dict(
                     type='CrossEntropyLoss', use_sigmoid=True,
                     loss_weight=1.0),
                 loss_dice: dict = dict(type='DiceLoss', loss_weight=4.0),
                 loss_rank: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.num_thing_classes = num_thing_classes
        self.num_stuff_classes = num_stuff_classes
        self.in_channels = in_channels
        self.hard_mask_thr = hard_mask_thr
        self.kernel_init = kernel_init
        self.with_ffn = with_ffn
        self.conv_kernel_size = conv_kernel_size
        self.feat_gather_stride = feat_gather_stride
        self.mask_transform_stride = mask_transform_stride
        self.mask_upsample_stride = mask_upsample_stride
        self.ignore_index = ignore_index
        self.previous_type = previous_type
        self.previous_link = previous_link
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        self.loss_rank = MODELS.build(loss_rank) if loss_rank else None
        emb = in_channels * conv_kernel_size**2

        self.attention = MultiheadAttention(emb, num_heads, dropout)
        self.attention_norm = build_norm_layer(dict(type='LN'), emb)[1]
        self.kernel_update_conv = MODELS.build(kernel_updator_cfg)
        if feat_transform_cfg is not None:
            cfg = dict(feat_transform_cfg)
            kernel_size = cfg.pop('kernel_size', 1)
            self.feat_transform = ConvModule(
                in_channels, in_channels, kernel_size,
                stride=feat_gather_stride,
                padding=int(feat_gather_stride // 2), **cfg)
        else:
            self.feat_transform = None
        ffn_args = (in_channels, feedforward_channels, num_ffn_fcs,
                    ffn_act_cfg, dropout)
        if with_ffn:
            self.ffn = self._ffn(*ffn_args)
            self.ffn_norm = build_norm_layer(dict(type='LN'), in_channels)[1]

        self.cls_fcs = nn.ModuleList()
        for _ in range(num_cls_fcs):
            self.cls_fcs.append(nn.Linear(in_channels, in_channels,
                                          bias=False))
            self.cls_fcs.append(
                build_norm_layer(dict(type='LN'), in_channels)[1])
            self.cls_fcs.append(build_activation_layer(act_cfg))
        use_sigmoid = getattr(self.loss_cls, 'use_sigmoid', True)
        self.fc_cls = nn.Linear(
            in_channels, num_classes if use_sigmoid else num_classes + 1)
        self.mask_fcs = nn.ModuleList()
        for _ in range(num_mask_fcs):
            self.mask_fcs.append(
                nn.Linear(in_channels, in_channels, bias=False))
            self.mask_fcs.append(
                build_norm_layer(dict(type='LN'), in_channels)[1])
            self.mask_fcs.append(build_activation_layer(act_cfg))
        self.fc_mask = nn.Linear(in_channels, out_channels)

        if previous_type == 'ffn':
            self._add_link_modules('', None, emb, link_num_heads, ffn_args)
        elif previous_type == 'update':
            self._add_link_modules('_track', kernel_updator_cfg, emb,
                                   link_num_heads, ffn_args)
        elif previous_type is not None:
            raise ValueError(f'unsupported previous_type {previous_type!r}')
        if previous_link == 'update_dynamic_cov':
            self._add_link_modules('_link', kernel_updator_cfg, emb,
                                   link_num_heads, ffn_args)
        elif previous_link is not None:
            raise ValueError(f'unsupported previous_link {previous_link!r}')

    #: the modules built by ``previous_type`` / ``previous_link``
    LINK_MODULES = ('attention_previous', 'attention_previous_norm',
                    'link_ffn', 'link_ffn_norm',
                    'attention_previous_update_track',
                    'attention_previous_track',
                    'attention_previous_norm_track', 'link_ffn_track',
                    'link_ffn_norm_track', 'attention_previous_update_link',
                    'attention_previous_link', 'attention_previous_norm_link',
                    'link_ffn_link', 'link_ffn_norm_link')

    def link_module_names(self) -> Tuple[str, ...]:
        """Names of this stage's linking / fusion modules (Video K-Net
        only: an image K-Net checkpoint has none of them)."""
        return tuple(n for n in self.LINK_MODULES if hasattr(self, n))

    def _add_link_modules(self, suffix: str, updator_cfg: Optional[dict],
                          emb: int, num_heads: int, ffn_args: tuple) -> None:
        """One link variant, in the release's names and order:
        ``attention_previous_update{suffix}`` (a kernel updator, if
        ``updator_cfg``), ``attention_previous{suffix}`` +
        ``attention_previous_norm{suffix}``, ``link_ffn{suffix}`` +
        ``link_ffn_norm{suffix}`` (``ffn_args``: :meth:`_ffn`'s)."""
        if updator_cfg is not None:
            setattr(self, f'attention_previous_update{suffix}',
                    MODELS.build(updator_cfg))
        setattr(self, f'attention_previous{suffix}',
                MultiheadAttention(emb, num_heads, 0.))
        setattr(self, f'attention_previous_norm{suffix}',
                build_norm_layer(dict(type='LN'), emb)[1])
        setattr(self, f'link_ffn{suffix}', self._ffn(*ffn_args))
        setattr(self, f'link_ffn_norm{suffix}',
                build_norm_layer(dict(type='LN'), ffn_args[0])[1])

    @staticmethod
    def _ffn(channels: int, ff_channels: int, num_fcs: int, act_cfg: dict,
             dropout: float) -> FFN:
        return FFN(
            embed_dims=channels,
            feedforward_channels=ff_channels,
            num_fcs=num_fcs,
            act_cfg=act_cfg,
            ffn_drop=dropout)

    def init_weights(self) -> None:
        """Xavier for matrices, focal prior for the class bias (release)."""
        super().init_weights()
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        if getattr(self.loss_cls, 'use_sigmoid', True):
            nn.init.constant_(self.fc_cls.bias, bias_init_with_prob(0.01))
        if self.kernel_init:
            nn.init.normal_(self.fc_mask.weight, mean=0, std=0.01)

    # ------------------------------------------------------------------ #
    def _attend(self, attn: MultiheadAttention, norm: nn.Module, query: Tensor,
                key: Tensor) -> Tensor:
        """LN(query + MHA(query, key, key)) on [B, N, K*K*C] tensors."""
        q = query.permute(1, 0, 2)
        k = key.permute(1, 0, 2)
        out = norm(attn(query=q, key=k, value=k, identity=q))
        return out.permute(1, 0, 2)

    def link_previous(self, obj_feat: Tensor,
                      previous_obj_feats: Tensor) -> Tensor:
        """Kernel linking (``previous_type='ffn'``).

        Args:
            obj_feat: [B, N, K*K, C] updated kernels of the current frame.
            previous_obj_feats: [B, M, C, K, K] kernels of the previous frame.

        Returns:
            [B, N, K*K, C] linked ("track") kernels.
        """
        b, n = obj_feat.shape[:2]
        cur = obj_feat.reshape(b, n, -1)
        num_prev = previous_obj_feats.shape[1]
        prev = previous_obj_feats.reshape(b, num_prev, self.in_channels, -1)
        prev = prev.permute(0, 1, 3, 2).reshape(b, num_prev, -1)
        linked = self._attend(self.attention_previous,
                              self.attention_previous_norm, cur, prev)
        linked = linked.reshape(b, n, -1, self.in_channels)
        return self.link_ffn_norm(self.link_ffn(linked))

    def link_previous_update(self, obj_feat: Tensor, x_feat: Tensor,
                             previous_obj_feats: Tensor) -> Tensor:
        """Kernel linking with updated previous kernels
        (``previous_type='update'``).

        Args:
            obj_feat: [B, N, K*K, C] updated kernels of the current frame.
            x_feat: [B, N, C] group features of the current frame.
            previous_obj_feats: [B, N, C, K, K] kernels of the previous
                frame (one per current kernel).

        Returns:
            [B, N, K*K, C] linked ("track") kernels.
        """
        b, n = obj_feat.shape[:2]
        prev = previous_obj_feats.reshape(b, n, self.in_channels,
                                          -1).permute(0, 1, 3, 2)
        prev = self.attention_previous_update_track(x_feat, prev)
        # [B*N, K*K, C] read as [B, N, C, K*K] (the release's reshape)
        prev = prev.reshape(b, n, self.in_channels,
                            -1).permute(0, 1, 3, 2).reshape(b, n, -1)
        linked = self._attend(self.attention_previous_track,
                              self.attention_previous_norm_track,
                              obj_feat.reshape(b, n, -1), prev)
        linked = linked.reshape(b, n, -1, self.in_channels)
        return self.link_ffn_norm_track(self.link_ffn_track(linked))

    def fuse_previous(self, proposal_feat: Tensor, x_feat: Tensor,
                      previous_obj_feats: Tensor) -> Tensor:
        """Kernel fusion (``previous_link='update_dynamic_cov'``).

        Args:
            proposal_feat: [B, N, K*K, C] input kernels of this stage.
            x_feat: [B, N, C] group features of the current frame.
            previous_obj_feats: [B, N, C, K, K] previous frame's kernels.

        Returns:
            [B, N, K*K, C] kernels that replace the input kernels.
        """
        b, n = proposal_feat.shape[:2]
        prev = previous_obj_feats.reshape(b, n, self.in_channels,
                                          -1).permute(0, 1, 3, 2)
        prev = self.attention_previous_update_link(x_feat, prev)
        prev = prev.reshape(b, n, -1)
        cur = proposal_feat.reshape(b, n, -1)
        cur = self._attend(self.attention_previous_link,
                           self.attention_previous_norm_link, cur, prev)
        cur = cur.reshape(b, n, -1, self.in_channels)
        return self.link_ffn_norm_link(self.link_ffn_link(cur))

    def forward(self,
                x: Tensor,
                proposal_feat: Tensor,
                mask_preds: Tensor,
                previous_obj_feats: Optional[Tensor] = None,
                mask_shape: Optional[Tuple[int, int]] = None,
                previous_valid: Optional[Tensor] = None
                ) -> Dict[str, Optional[Tensor]]:
        """Run one stage.

        Args:
            x: [B, C, h, w] features (``x_feats`` of the kernel head).
            proposal_feat: [B, N, C, K, K] kernels.
            mask_preds: [B, N, h', w'] mask logits of the previous stage.
            previous_obj_feats: [B, N, C, K, K] previous frame's final
                kernels (link / fusion), or None.
            mask_shape: optional output size of the mask logits.
            previous_valid: optional [B] bool: which images'
                ``previous_obj_feats`` are real. For the others (a first
                frame) the fusion is skipped and the linked kernels are the
                unlinked ones, exactly as with ``previous_obj_feats=None``;
                both branches are computed and selected per image, so a
                traced graph (ONNX export) covers both cases.

        Returns:
            dict: ``cls_score`` [B, N, num_classes], ``mask_preds``
            [B, N, h, w], ``object_feats`` [B, N, C, K, K],
            ``masked_pool_feats`` [B, N, C], ``object_feats_track``
            [B, N, C, K, K] or None.
        """
        def select(linked: Tensor, unlinked: Tensor) -> Tensor:
            if previous_valid is None:
                return linked
            return torch.where(previous_valid.view(-1, 1, 1, 1), linked,
                               unlinked)

        b, n = proposal_feat.shape[:2]
        if self.feat_transform is not None:
            x = self.feat_transform(x)
        c, h, w = x.shape[-3:]
        if mask_preds.shape[-2:] != (h, w):
            gather_mask = F.interpolate(
                mask_preds, (h, w), align_corners=False, mode='bilinear')
        else:
            gather_mask = mask_preds
        hard = (gather_mask.sigmoid() > self.hard_mask_thr).to(x.dtype)
        x_feat = torch.einsum('bnhw,bchw->bnc', hard, x)

        # [B, N, C, K, K] -> [B, N, K*K, C]
        proposal_feat = proposal_feat.reshape(b, n, self.in_channels,
                                              -1).permute(0, 1, 3, 2)
        if previous_obj_feats is not None and \
                self.previous_link == 'update_dynamic_cov':
            proposal_feat = select(
                self.fuse_previous(proposal_feat, x_feat,
                                   previous_obj_feats), proposal_feat)
        obj_feat = self.kernel_update_conv(x_feat, proposal_feat)

        obj_feat = obj_feat.reshape(b, n, -1).permute(1, 0, 2)
        obj_feat = self.attention_norm(self.attention(obj_feat))
        obj_feat = obj_feat.permute(1, 0, 2).reshape(b, n, -1,
                                                     self.in_channels)
        if self.with_ffn:
            obj_feat = self.ffn_norm(self.ffn(obj_feat))

        obj_feat_track = None
        if previous_obj_feats is not None and self.previous_type == 'ffn':
            obj_feat_track = select(
                self.link_previous(obj_feat, previous_obj_feats), obj_feat)
        elif previous_obj_feats is not None and \
                self.previous_type == 'update':
            obj_feat_track = select(
                self.link_previous_update(obj_feat, x_feat,
                                          previous_obj_feats), obj_feat)

        cls_feat = obj_feat.sum(-2)
        mask_feat = obj_feat
        for layer in self.cls_fcs:
            cls_feat = layer(cls_feat)
        for layer in self.mask_fcs:
            mask_feat = layer(mask_feat)
        cls_score = self.fc_cls(cls_feat).view(b, n, -1)
        # [B, N, K*K, C] -> [B, N, C, K*K]
        mask_feat = self.fc_mask(mask_feat).permute(0, 1, 3, 2)

        if self.mask_transform_stride == 2 and self.feat_gather_stride == 1:
            mask_x = F.interpolate(
                x, scale_factor=0.5, mode='bilinear', align_corners=False)
            h, w = mask_x.shape[-2:]
        else:
            mask_x = x
        k = self.conv_kernel_size
        # image i's features with its N dynamic kernels
        new_mask_preds = apply_dynamic_kernels(
            mask_x, mask_feat.reshape(b, n, c, k, k))
        if self.mask_transform_stride == 2:
            new_mask_preds = F.interpolate(
                new_mask_preds, scale_factor=2, mode='bilinear',
                align_corners=False)
        if mask_shape is not None and mask_shape[0] != h:
            new_mask_preds = F.interpolate(
                new_mask_preds, mask_shape, align_corners=False,
                mode='bilinear')

        def to_kernel(t: Tensor) -> Tensor:
            return t.permute(0, 1, 3, 2).reshape(b, n, self.in_channels, k, k)

        return dict(
            cls_score=cls_score,
            mask_preds=new_mask_preds,
            object_feats=to_kernel(obj_feat),
            masked_pool_feats=x_feat,
            object_feats_track=None
            if obj_feat_track is None else to_kernel(obj_feat_track))

    # ------------------------------------------------------------------ #
    def get_targets(self, assign_results, targets, num_preds: int,
                    mask_shape: Tuple[int, int]) -> Tuple[Tensor, ...]:
        """Per-kernel targets of a batch (things assigned, stuff fixed).

        Thing kernel rows (first ``len(assign)`` kernels) get their GT label
        or ``num_classes``, weight 1 on the thing-class columns only when
        stuff is used (all columns otherwise); stuff kernel j gets label
        T + j if present (else ``num_classes``) and weight 1 on its own
        column only.

        Returns ``labels [B*N]``, ``label_weights [B*N, num_classes]``,
        ``mask_targets [B*N, H, W]`` (see :meth:`stage_targets`).
        """
        return tuple(self.stage_targets(assign_results, targets, num_preds,
                                        mask_shape)[:3])

    def stage_targets(self, assign_results, targets, num_preds: int,
                      mask_shape: Tuple[int, int]) -> StageTargets:
        """:meth:`get_targets` plus the positive rows, built for the whole
        batch from the assignment's positives (gathers from the padded
        ground truth, no device sync; the stuff part, the same at every
        stage, is built once per batch)."""
        batch = target_batch(targets)
        assign = KernelAssignment.from_results(assign_results, batch.device)
        b, p = assign.host_gt_inds.shape
        assert tuple(batch.mask_shape) == tuple(mask_shape)
        tc, sc, nc = (self.num_thing_classes, self.num_stuff_classes,
                      self.num_classes)
        labels, mask_targets = batch.assigned_things(assign, nc)
        weights = batch.thing_masks.new_ones((b, p, nc))
        img, ker = np.nonzero(assign.host_gt_inds > 0)
        pos = [img * num_preds + ker]
        if num_preds > p:
            # stuff kernels (absent stuff GT: all negative)
            assert num_preds == p + sc
            weights[..., tc:] = 0
            s_lab, s_lw, s_mtg, s_img, s_row = self._stuff_targets(batch)
            labels = torch.cat([labels, s_lab], dim=1)
            weights = torch.cat([weights, s_lw], dim=1)
            mask_targets = torch.cat([mask_targets, s_mtg], dim=1)
            pos.append(s_img * num_preds + p + s_row)
        pos = np.sort(np.concatenate(pos))
        return StageTargets(
            labels.flatten(), weights.flatten(0, 1),
            mask_targets.flatten(0, 1),
            host_to_device(pos.astype(np.int64), batch.device),
            int(pos.size))

    def _stuff_targets(self, batch):
        """Labels [B, S], label weights [B, S, C], mask targets [B, S, h, w]
        of the stuff kernels and the host (image, kernel j) pairs of the
        present stuff classes; cached on the batch."""
        tc, sc, nc = (self.num_thing_classes, self.num_stuff_classes,
                      self.num_classes)
        key = ('update_head_stuff', tc, sc, nc)
        if key not in batch.cache:
            b, device = len(batch.num_things), batch.device
            labels = torch.full((b, sc), nc, dtype=torch.long, device=device)
            masks = batch.thing_masks.new_zeros((b, sc, *batch.mask_shape))
            weights = torch.cat([
                batch.thing_masks.new_zeros((sc, tc)),
                torch.eye(sc, device=device, dtype=batch.thing_masks.dtype)
            ], dim=1).expand(b, sc, nc)
            img, row, _ = batch.stuff_rows(tc)
            if img.size:
                idx = host_to_device(np.stack([img, row]), device)
                labels[idx[0], idx[1]] = idx[1] + tc
                masks[idx[0], idx[1]] = batch.stuff_masks().to(masks.dtype)
            batch.cache[key] = (labels, weights, masks, img, row)
        return batch.cache[key]

    def loss(self, cls_score: Tensor, mask_pred: Tensor, labels: Tensor,
             label_weights: Tensor, mask_targets: Tensor,
             pos_inds: Optional[Tensor] = None,
             num_pos: Optional[int] = None) -> Dict[str, Tensor]:
        """``loss_cls``, ``pos_acc``, ``loss_mask``, ``loss_dice`` (and
        ``loss_rank`` if configured) of one stage; ``mask_pred`` [B, N, H, W]
        at the target resolution. ``pos_inds`` / ``num_pos``: the positive
        rows from :meth:`stage_targets` (else found from ``labels``)."""
        losses = dict()
        pos = labels < self.num_classes
        if pos_inds is None:
            pos_inds = pos.nonzero(as_tuple=False).squeeze(1)
            num_pos = int(pos_inds.numel())
        avg_factor = reduce_mean(
            torch.full((), float(num_pos), device=labels.device)).clamp_(
                min=1.0)
        b, n = mask_pred.shape[:2]
        flat_cls = cls_score.reshape(b * n, -1)
        if flat_cls.numel() > 0:
            losses['loss_cls'] = self.loss_cls(
                flat_cls, labels, label_weights, avg_factor=avg_factor)
            losses['pos_acc'] = accuracy(flat_cls[pos_inds],
                                         labels[pos_inds])
        for key, value in kernel_mask_losses(
                mask_pred, mask_targets, pos, pos_inds, num_pos,
                self.loss_mask, self.loss_dice, self.loss_rank,
                self.ignore_index).items():
            losses[f'loss_{key}'] = value
        return losses
