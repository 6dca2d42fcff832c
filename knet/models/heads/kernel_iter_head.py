"""K-Net's iterative kernel update head: the stages, their losses, inference.

Training: stage ``s`` is supervised with a Hungarian assignment computed from
stage ``s-1``'s detached predictions (stage 0: the kernel head's masks, no
class cost) over the P thing kernels only; stuff kernel j is always bound to
stuff class T + j. Inference: sigmoid scores of the last stage, top-k
(kernel, thing class) pairs, stuff kernel j scored by its own class, then the
panoptic merge (:mod:`knet.models.layers.panoptic_merge`) or top-k instances.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures.mask import mask2bbox
from ..layers.kernel_targets import KernelTargets
from ..layers.panoptic_merge import (PanopticOutput, TiledMasks,
                                     argmax_contenders, merge_joint,
                                     merge_thing_first, sigmoid_exact,
                                     window_bounds)
from ..layers.precision import float32_region, to_float32
from ..task_modules.kernel_assignment import KernelAssignment, assign_kernels

__all__ = ['KernelIterHead']

_DEFAULT_ASSIGNER = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='KNetFocalLossCost', weight=2.0),
        dict(type='KNetMaskCost', weight=1.0, pred_act=True),
        dict(type='KNetDiceCost', weight=4.0, pred_act=True)
    ])


@contextmanager
def _intra_op_threads(num: Optional[int]) -> Iterator[None]:
    """Run the block with ``num`` torch intra-op threads (None: as is)."""
    old = torch.get_num_threads()
    if num is None or num == old:
        yield
        return
    torch.set_num_threads(num)
    try:
        yield
    finally:
        torch.set_num_threads(old)


@MODELS.register_module()
class KernelIterHead(BaseModule):
    """Stages of kernel updates (see module doc).

    Args:
        num_stages (int): number of :class:`KernelUpdateHead` stages.
        stage_loss_weights (sequence): weight of each stage's losses.
        num_proposals (int): P thing kernels (the rest are stuff kernels).
        num_thing_classes (int), num_stuff_classes (int): T, S.
        mask_head (dict | list[dict]): stage configs.
        assigner (dict | list[dict]): HungarianAssigner config(s) per stage.
        assign_stages (int): stages that re-assign (later ones reuse).
        link_stages (sequence[int]): stages that receive the previous
            frame's kernels (Video K-Net; default: the last stage).
        do_panoptic (bool): panoptic (else instance) inference.
        test_cfg (dict): ``max_per_img``, ``mask_thr``, ``merge_joint``
            (bool), ``merge_stuff_thing`` (``overlap_thr``,
            ``instance_score_thr``, ``iou_thr``, ``stuff_max_area``),
            ``uncovered`` ('best_kept' | 'fixed'), ``fill_label``,
            ``merge_resolution`` ('image': rescale masks to the original
            image first, as the release; 'mask': merge at mask resolution
            and upsample the segment map, faster), ``thing_candidates``
            ('topk': the ``max_per_img`` best (kernel, thing class) pairs,
            Video K-Net; 'per_kernel': each thing kernel with its best thing
            class, the K-Net image release), ``prune_candidates`` (True:
            with the joint merge, resize only the candidates that can win a
            pixel (exact, see :func:`argmax_contenders`); False: resize all,
            the release's brute force; both give identical results),
            ``tiled_merge`` (True: with pruning, the per-pixel argmax, the
            >= 0.5 areas and the uncovered fill are computed tile by tile
            from the contenders of each tile, without the [M, H, W] masks,
            where that is bit-exact, see :class:`TiledMasks`;
            ``banded_merge=False``, its former name, also turns it off),
            ``merge_threads`` (torch intra-op threads of the tiled merge on
            CPU, default 1: it runs many small ops, which extra threads
            only slow down with fork/join latency, and badly where cores
            are shared; None keeps torch's setting).
    """

    def __init__(self,
                 num_stages: int = 3,
                 stage_loss_weights: Sequence[float] = (1, 1, 1),
                 num_proposals: int = 100,
                 num_thing_classes: int = 80,
                 num_stuff_classes: int = 53,
                 mask_head: dict = dict(type='KernelUpdateHead'),
                 assigner: Optional[dict] = _DEFAULT_ASSIGNER,
                 assign_stages: int = 5,
                 link_stages: Optional[Sequence[int]] = None,
                 do_panoptic: bool = True,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        assert len(stage_loss_weights) == num_stages
        self.num_stages = num_stages
        self.stage_loss_weights = list(stage_loss_weights)
        self.num_proposals = num_proposals
        self.num_thing_classes = num_thing_classes
        self.num_stuff_classes = num_stuff_classes
        self.num_classes = num_thing_classes + num_stuff_classes
        self.assign_stages = assign_stages
        self.link_stages = [num_stages - 1] if link_stages is None else [
            s % num_stages for s in link_stages
        ]
        self.do_panoptic = do_panoptic
        self.test_cfg = dict(
            max_per_img=num_proposals,
            mask_thr=0.5,
            merge_joint=True,
            merge_stuff_thing=dict(
                overlap_thr=0.6,
                iou_thr=0.5,
                stuff_max_area=4096,
                instance_score_thr=0.3),
            uncovered='best_kept',
            fill_label=0,
            merge_resolution='image',
            thing_candidates='topk',
            prune_candidates=True,
            tiled_merge=True,
            merge_threads=1)
        if test_cfg:
            test_cfg = dict(test_cfg)
            merge = dict(self.test_cfg['merge_stuff_thing'])
            merge.update(test_cfg.pop('merge_stuff_thing', {}) or {})
            self.test_cfg.update(test_cfg)
            self.test_cfg['merge_stuff_thing'] = merge

        if not isinstance(mask_head, (list, tuple)):
            mask_head = [mask_head for _ in range(num_stages)]
        assert len(mask_head) == num_stages
        self.mask_head = nn.ModuleList([MODELS.build(h) for h in mask_head])
        if assigner is None:
            self.assigners = None
        else:
            if not isinstance(assigner, (list, tuple)):
                assigner = [assigner for _ in range(num_stages)]
            self.assigners = [TASK_UTILS.build(a) for a in assigner]

    def init_weights(self) -> None:
        """Initialise every stage (xavier, focal class prior) as the release.

        MMEngine's ``BaseModule.init_weights`` does not descend into a plain
        ``nn.ModuleList``, so without this the stages kept PyTorch defaults.
        """
        super().init_weights()
        for head in self.mask_head:
            head.init_weights()

    # ------------------------------------------------------------------ #
    def forward(self,
                x_feats: Tensor,
                proposal_feats: Tensor,
                mask_preds: Tensor,
                previous_obj_feats: Optional[Tensor] = None,
                link_stages: Optional[Sequence[int]] = None
                ) -> List[Dict[str, Optional[Tensor]]]:
        """Run all stages.

        Args:
            x_feats: [B, C, h, w]; proposal_feats: [B, N, C, K, K];
            mask_preds: [B, N, h, w] initial mask logits.
            previous_obj_feats: previous frame's final kernels for the
                stages in ``link_stages`` (default ``self.link_stages``).

        Returns:
            One dict per stage (see :meth:`KernelUpdateHead.forward`) plus
            ``scaled_mask_preds`` (mask logits x ``mask_upsample_stride``,
            computed for every stage in training and for the last one in
            eval; the unscaled logits otherwise).
        """
        link_stages = self.link_stages if link_stages is None else [
            s % self.num_stages for s in link_stages
        ]
        outputs = []
        object_feats = proposal_feats
        for stage, head in enumerate(self.mask_head):
            prev = previous_obj_feats if stage in link_stages else None
            out = head(x_feats, object_feats, mask_preds,
                       previous_obj_feats=prev)
            if head.mask_upsample_stride > 1 and (
                    self.training or stage == self.num_stages - 1):
                out['scaled_mask_preds'] = F.interpolate(
                    out['mask_preds'],
                    scale_factor=head.mask_upsample_stride,
                    mode='bilinear',
                    align_corners=False)
            else:
                out['scaled_mask_preds'] = out['mask_preds']
            outputs.append(out)
            object_feats = out['object_feats']
            mask_preds = out['mask_preds']
        return outputs

    # ------------------------------------------------------------------ #
    def assign(self,
               stage: int,
               mask_preds: Tensor,
               cls_scores: Optional[Tensor],
               targets: Sequence[KernelTargets],
               batch_img_metas: Optional[Sequence[dict]] = None
               ) -> KernelAssignment:
        """Hungarian assignment of the P thing kernels of each image (all
        images at once, see :func:`assign_kernels`).

        Args:
            mask_preds: [B, N, H, W] mask logits at the target resolution.
            cls_scores: [B, N, num_classes] logits, or None (no class cost).

        Returns:
            One ``AssignResult`` per image (a :class:`KernelAssignment`).
        """
        return self._assign_sets([stage], [(mask_preds, cls_scores)],
                                 targets, batch_img_metas)[0]

    def _assign_sets(self, stages: Sequence[int],
                     predictions: Sequence[tuple],
                     targets: Sequence[KernelTargets],
                     batch_img_metas: Optional[Sequence[dict]] = None
                     ) -> List[KernelAssignment]:
        """Assignments of several stages in one batch (one host copy)."""
        p, t = self.num_proposals, self.num_thing_classes
        preds = [(m[:, :p], None if s is None else s[:, :p, :t])
                 for m, s in predictions]
        return assign_kernels([self.assigners[i] for i in stages], preds,
                              targets, batch_img_metas)

    def assign_final(self, stage_output: Dict[str, Tensor],
                     targets: Sequence[KernelTargets],
                     batch_img_metas: Optional[Sequence[dict]] = None
                     ) -> List:
        """Extra assignment on a stage's own predictions (with class cost),
        used by Video K-Net to pick the positive kernels for tracking."""
        return self.assign(self.num_stages - 1,
                           stage_output['scaled_mask_preds'],
                           stage_output['cls_score'], targets,
                           batch_img_metas)

    def loss(self,
             stage_outputs: List[Dict[str, Tensor]],
             init_mask_preds: Tensor,
             targets: Sequence[KernelTargets],
             batch_img_metas: Optional[Sequence[dict]] = None,
             init_cls_scores: Optional[Tensor] = None):
        """Losses of every stage.

        Stage ``s`` is assigned on stage ``s-1``'s detached predictions; all
        stages that re-assign (``assign_stages``) are assigned together,
        with one host copy for the batch.

        Args:
            stage_outputs: :meth:`forward` output (training mode).
            init_mask_preds: [B, N, h, w] kernel-head masks (stage 0 input).
            targets: :class:`KernelTargets` per image.

        Returns:
            ``(losses, assign_results)``: ``s{i}_loss_cls``, ``s{i}_pos_acc``,
            ``s{i}_loss_mask``, ``s{i}_loss_dice`` (x stage weight) and one
            list of AssignResults per stage.
        """
        first = self.mask_head[0]
        prev_masks = init_mask_preds.detach()
        if first.mask_upsample_stride > 1:
            prev_masks = F.interpolate(
                prev_masks, scale_factor=first.mask_upsample_stride,
                mode='bilinear', align_corners=False)
        prev_cls = None if init_cls_scores is None else \
            init_cls_scores.detach()
        inputs = [(prev_masks, prev_cls)] + [
            (out['scaled_mask_preds'].detach(), out['cls_score'].detach())
            for out in stage_outputs[:-1]
        ]
        num_assign = max(1, min(self.assign_stages, len(stage_outputs)))
        assigned = self._assign_sets(
            list(range(num_assign)), inputs[:num_assign], targets,
            batch_img_metas)
        losses, all_assign = {}, []
        for stage, out in enumerate(stage_outputs):
            head = self.mask_head[stage]
            scaled = out['scaled_mask_preds']
            assign_results = assigned[min(stage, num_assign - 1)]
            all_assign.append(assign_results)
            tgt = head.stage_targets(assign_results, targets,
                                     scaled.shape[1], scaled.shape[-2:])
            with float32_region(scaled.device):
                stage_loss = head.loss(
                    to_float32(out['cls_score']), to_float32(scaled),
                    tgt.labels, tgt.label_weights, tgt.mask_targets,
                    pos_inds=tgt.pos_inds, num_pos=tgt.num_pos)
            for key, value in stage_loss.items():
                losses[f's{stage}_{key}'] = value * \
                    self.stage_loss_weights[stage]
        return losses, all_assign

    # ------------------------------------------------------------------ #
    def rescale_masks(self, mask_logits: Tensor, img_meta: dict) -> Tensor:
        """Sigmoid, resize to the padded input, crop, resize to ori_shape
        (the release's order of operations). [M, h, w] -> [M, H, W].

        Every mask is sigmoided with :func:`sigmoid_exact` and resized as an
        image of its own ([M, 1, h, w]): its values then do not depend on
        the other masks resized with it (torch's CPU kernels round some
        elements differently by position, and resize 3-channel images with
        another kernel on one thread), so a pruned or tiled merge equals the
        brute force bit for bit."""
        h, w = img_meta['img_shape'][:2]
        masks = F.interpolate(
            sigmoid_exact(mask_logits).unsqueeze(1),
            size=tuple(img_meta['batch_input_shape']),
            mode='bilinear',
            align_corners=False)[:, :, :h, :w]
        ori = tuple(img_meta['ori_shape'][:2])
        if tuple(masks.shape[-2:]) == ori:
            # a same-size bilinear resize is the identity: skip it
            return masks.squeeze(1)
        return F.interpolate(
            masks, size=ori, mode='bilinear', align_corners=False).squeeze(1)

    def _tiled_masks(self, mask_logits: Tensor, kernels: Tensor,
                     img_meta: dict,
                     low_res_logits: Optional[Tensor] = None
                     ) -> Optional[TiledMasks]:
        """``rescale_masks(mask_logits[kernels])`` as :class:`TiledMasks`
        (exact argmax and areas without the [M, H, W] masks) when the chain
        is one power-of-two upsampling to the padded input and a crop (no
        resize to ``ori_shape``), above torch's small-output kernel switch;
        None otherwise."""
        h2, w2 = mask_logits.shape[-2:]
        pad_h, pad_w = (int(v) for v in img_meta['batch_input_shape'])
        h, w = (int(v) for v in img_meta['img_shape'][:2])
        k = pad_h // h2
        if (k not in (1, 2, 4, 8) or k * h2 != pad_h or k * w2 != pad_w
                or tuple(img_meta['ori_shape'][:2]) != (h, w)
                or pad_h + pad_w <= 128 or kernels.numel() == 0):
            return None
        return TiledMasks(mask_logits, kernels, k, (h, w), low_res_logits)

    def _crop_masks(self, mask_logits: Tensor, img_meta: dict) -> Tensor:
        """Sigmoid masks at mask resolution, cropped to the image area."""
        pad_h, pad_w = img_meta['batch_input_shape']
        mh, mw = mask_logits.shape[-2:]
        h, w = img_meta['img_shape'][:2]
        ch = int(round(h * mh / pad_h))
        cw = int(round(w * mw / pad_w))
        return sigmoid_exact(mask_logits[:, :ch, :cw])

    @staticmethod
    def _unique_kernels(kernel_inds: Tensor, scores: Tensor) -> Tensor:
        """Indices of the candidates whose kernel (hence mask) no earlier
        candidate with a score at least as high has: the others never win
        a pixel (they lose or tie with a lower index everywhere)."""
        same = kernel_inds.view(-1, 1) == kernel_inds.view(1, -1)
        earlier = torch.ones_like(same).tril(-1)
        at_least = scores.view(1, -1) >= scores.view(-1, 1)
        keep = ~(same & earlier & at_least).any(1)
        return keep.nonzero(as_tuple=False).squeeze(1)

    def _contenders(self, logits: Tensor, kernel_inds: Tensor,
                    scores: Tensor,
                    low_res_logits: Optional[Tensor] = None) -> Tensor:
        """Indices of the candidates that can win a pixel of the joint merge
        at any resolution the masks are resized to (exact pruning).

        Args:
            logits: [N, h, w] mask logits (merge input) of every kernel.
            kernel_inds: [M] kernel of each candidate; duplicates are
                dropped first (see :meth:`_unique_kernels`).
            scores: [M] candidate scores.
            low_res_logits: [N, h', w'] logits that ``logits`` were
                bilinearly upsampled from (bounds are cheaper there), or
                None (bounds from ``logits`` in cells of 4 x 4 pixels).
        """
        idx = self._unique_kernels(kernel_inds, scores)
        if low_res_logits is not None:
            lower, upper = window_bounds(
                low_res_logits[kernel_inds[idx]], window=5)
        else:
            lower, upper = window_bounds(
                logits[kernel_inds[idx]], window=5, cell=4)
        w = scores[idx].float().view(-1, 1, 1)
        # atol: far below any probability that matters, far above
        # subnormal rounding
        win = argmax_contenders(w * lower.sigmoid(), w * upper.sigmoid(),
                                atol=1e-30)
        return idx[win]

    @torch.no_grad()
    def _tiled_merge(self, mask_logits: Tensor, kernels: Tensor,
                     scores: Tensor, labels: Tensor, img_meta: dict,
                     low_res_logits: Optional[Tensor],
                     joint_kwargs: dict) -> Optional[PanopticOutput]:
        """:func:`merge_joint` of the candidates (rows ``kernels`` of
        ``mask_logits``) tile by tile, without the [M, H, W] masks (see
        :class:`TiledMasks`); None where the resize chain does not allow
        it."""
        tiled = self._tiled_masks(mask_logits, kernels, img_meta,
                                  low_res_logits)
        if tiled is None:
            return None

        def fill_argmax(kept: Tensor, free: Tensor) -> Tensor:
            return kept[tiled.argmax(scores[kept], kept, free)[free]]

        return merge_joint(
            None, scores, labels, self.num_thing_classes,
            ids=tiled.argmax(scores), orig_area=tiled.area,
            orig_area_bounds=tiled.area_bounds, fill_argmax=fill_argmax,
            **joint_kwargs)

    def panoptic_single(self, cls_score: Tensor, mask_logits: Tensor,
                        img_meta: dict,
                        low_res_logits: Optional[Tensor] = None
                        ) -> PanopticOutput:
        """Panoptic merge of one image.

        Args:
            cls_score: [N, num_classes] sigmoid scores.
            mask_logits: [N, h, w] (scaled) mask logits of the last stage.
            low_res_logits: [N, h', w'] the logits ``mask_logits`` were
                bilinearly upsampled from (optional; only used to bound the
                candidates' values cheaply for the exact pruning).

        Returns:
            :class:`PanopticOutput` at ``ori_shape`` with ``kernel_inds``.
        """
        cfg = self.test_cfg
        merge_cfg = cfg['merge_stuff_thing']
        p, t = self.num_proposals, self.num_thing_classes
        if cfg['thing_candidates'] == 'per_kernel':
            thing_scores, thing_labels = cls_score[:p, :t].max(dim=1)
            thing_kernels = torch.arange(p, device=cls_score.device)
        else:
            thing_scores, topk = cls_score[:p, :t].flatten().topk(
                min(cfg['max_per_img'], p * t), sorted=True)
            thing_kernels = topk // t
            thing_labels = topk % t
        stuff_scores = cls_score[p:, t:].diagonal()
        stuff_scores, stuff_inds = torch.sort(stuff_scores, descending=True)
        stuff_labels = stuff_inds + t
        kernel_inds = torch.cat([thing_kernels, stuff_inds + p])

        image_res = cfg['merge_resolution'] == 'image'
        cand_scores = torch.cat([thing_scores, stuff_scores])
        cand_labels = torch.cat([thing_labels, stuff_labels])
        joint_kwargs = dict(
            overlap_thr=merge_cfg['overlap_thr'],
            instance_score_thr=merge_cfg['instance_score_thr'],
            uncovered=cfg['uncovered'],
            fill_label=cfg['fill_label'])
        # candidates whose masks are resized (all, or the exact contenders)
        sub, result = None, None
        if cfg['merge_joint'] and cfg.get('prune_candidates', True):
            if image_res and cfg.get('tiled_merge', True) and \
                    cfg.get('banded_merge', True):
                sub = self._unique_kernels(kernel_inds, cand_scores)
                threads = cfg.get('merge_threads', 1) \
                    if mask_logits.device.type == 'cpu' else None
                with _intra_op_threads(threads):
                    result = self._tiled_merge(
                        mask_logits, kernel_inds[sub], cand_scores[sub],
                        cand_labels[sub], img_meta, low_res_logits,
                        joint_kwargs)
            if result is None:
                sub = self._contenders(mask_logits, kernel_inds,
                                       cand_scores, low_res_logits)
        nt = thing_kernels.numel()
        if result is None:
            sub_kernels = kernel_inds if sub is None else kernel_inds[sub]
            if image_res:
                masks = self.rescale_masks(mask_logits[sub_kernels],
                                           img_meta)
            else:
                masks = self._crop_masks(mask_logits[sub_kernels], img_meta)
            if cfg['merge_joint']:
                result = merge_joint(
                    masks,
                    cand_scores if sub is None else cand_scores[sub],
                    cand_labels if sub is None else cand_labels[sub], t,
                    **joint_kwargs)
            else:
                result = merge_thing_first(
                    masks[:nt], thing_scores, thing_labels, masks[nt:],
                    stuff_scores, stuff_labels,
                    mask_thr=cfg['mask_thr'],
                    iou_thr=merge_cfg['iou_thr'],
                    stuff_max_area=merge_cfg['stuff_max_area'],
                    instance_score_thr=merge_cfg['instance_score_thr'],
                    uncovered=cfg['uncovered'],
                    fill_label=cfg['fill_label'])
        if sub is not None:  # subset positions -> candidate indices
            result.cand_inds = sub[result.cand_inds]
        if not image_res:
            size = tuple(img_meta['ori_shape'][:2])
            result.seg_ids = F.interpolate(
                result.seg_ids[None, None].float(), size,
                mode='nearest')[0, 0].long()
            result.sem_seg = F.interpolate(
                result.sem_seg[None, None].float(), size,
                mode='nearest')[0, 0].long()
            if result.fill_ids is not None:
                result.fill_ids = F.interpolate(
                    result.fill_ids[None, None].float(), size,
                    mode='nearest')[0, 0].long()
            result.areas = torch.bincount(
                result.seg_ids.flatten(),
                minlength=result.num_segments + 1)[1:]
        result.kernel_inds = kernel_inds[result.cand_inds]
        return result

    def predict_panoptic(self, stage_output: Dict[str, Tensor],
                         batch_img_metas: Sequence[dict]
                         ) -> List[PanopticOutput]:
        """Panoptic results of a batch from the last stage's output."""
        scores = stage_output['cls_score'].sigmoid()
        masks = stage_output['scaled_mask_preds']
        low = stage_output.get('mask_preds')
        if low is not None and (low.shape[-1] >= masks.shape[-1]
                                or low.shape[:2] != masks.shape[:2]):
            low = None  # not an upsampling source of the merged logits
        return [
            self.panoptic_single(scores[i], masks[i], meta,
                                 None if low is None else low[i])
            for i, meta in enumerate(batch_img_metas)
        ]

    def predict_instances(self, stage_output: Dict[str, Tensor],
                          batch_img_metas: Sequence[dict]
                          ) -> List[InstanceData]:
        """Top-k (kernel, class) instances with binary masks at ori_shape."""
        scores_all = stage_output['cls_score'].sigmoid()
        masks_all = stage_output['scaled_mask_preds']
        results = []
        for i, meta in enumerate(batch_img_metas):
            cls = scores_all[i]
            num_cls = cls.shape[1]
            scores, topk = cls.flatten().topk(
                min(self.test_cfg['max_per_img'], cls.numel()), sorted=True)
            kernels = topk // num_cls
            masks = self.rescale_masks(masks_all[i][kernels], meta) > \
                self.test_cfg['mask_thr']
            res = InstanceData(
                scores=scores,
                labels=topk % num_cls,
                masks=masks,
                bboxes=mask2bbox(masks),
                kernel_inds=kernels)
            results.append(res)
        return results
