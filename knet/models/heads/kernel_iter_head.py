"""K-Net's iterative kernel update head: the stages, their losses, inference.

Training: stage ``s`` is supervised with a Hungarian assignment computed from
stage ``s-1``'s detached predictions (stage 0: the kernel head's masks, no
class cost) over the P thing kernels only; stuff kernel j is always bound to
stuff class T + j. Inference: sigmoid scores of the last stage, top-k
(kernel, thing class) pairs, stuff kernel j scored by its own class, then the
panoptic merge or top-k instances, both by the post-processing module
(:class:`~knet.models.postprocessing.KNetPostProcessor`, built from
``test_cfg``).
"""
from typing import Dict, List, Optional, Sequence

import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.registry import MODELS, TASK_UTILS
from ..layers.kernel_targets import KernelTargets
from ..layers.precision import float32_region, to_float32
from ..postprocessing import PanopticOutput, build_postprocessor
from ..task_modules.kernel_assignment import KernelAssignment, assign_kernels

__all__ = ['KernelIterHead']

_DEFAULT_ASSIGNER = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='KNetFocalLossCost', weight=2.0),
        dict(type='KNetMaskCost', weight=1.0, pred_act=True),
        dict(type='KNetDiceCost', weight=4.0, pred_act=True)
    ])


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
        test_cfg (dict): inference settings, the keyword arguments of
            :class:`~knet.models.postprocessing.KNetPostProcessor`
            (``max_per_img``, ``mask_thr``, ``merge_joint``,
            ``merge_stuff_thing``, ``uncovered``, ``fill_label``,
            ``merge_resolution``, ``thing_candidates``, ``merge_impl``);
            an unknown key is an error.
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
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
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
        self.postprocessor = build_postprocessor(
            num_proposals, num_thing_classes, num_stuff_classes, test_cfg)

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
                link_stages: Optional[Sequence[int]] = None,
                previous_valid: Optional[Tensor] = None
                ) -> List[Dict[str, Optional[Tensor]]]:
        """Run all stages.

        Args:
            x_feats: [B, C, h, w]; proposal_feats: [B, N, C, K, K];
            mask_preds: [B, N, h, w] initial mask logits.
            previous_obj_feats: previous frame's final kernels for the
                stages in ``link_stages`` (default ``self.link_stages``).
            previous_valid: optional [B] bool, which images' previous
                kernels are real (see :meth:`KernelUpdateHead.forward`).

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
            linked = stage in link_stages
            out = head(x_feats, object_feats, mask_preds,
                       previous_obj_feats=previous_obj_feats if linked
                       else None,
                       previous_valid=previous_valid if linked else None)
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
    def predict_panoptic(self, stage_output: Dict[str, Tensor],
                         batch_img_metas: Sequence[dict]
                         ) -> List[PanopticOutput]:
        """Panoptic results of a batch from the last stage's output."""
        return self.postprocessor.predict_panoptic(
            stage_output['cls_score'], stage_output['scaled_mask_preds'],
            batch_img_metas, stage_output.get('mask_preds'))

    def predict_instances(self, stage_output: Dict[str, Tensor],
                          batch_img_metas: Sequence[dict]
                          ) -> List[InstanceData]:
        """Top-k (kernel, class) instances with binary masks at ori_shape."""
        return self.postprocessor.predict_instances(
            stage_output['cls_score'], stage_output['scaled_mask_preds'],
            batch_img_metas)
