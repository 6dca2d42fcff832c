"""K-Net detector (panoptic or instance segmentation) on MMDetection 3.x.

backbone -> neck = [FPN, SemanticFPNWrapper] -> rpn_head (ConvKernelHead)
-> roi_head (KernelIterHead). Panoptic predictions are written as mmdet's
``pred_panoptic_seg`` (``label + segment_id * INSTANCE_OFFSET`` for things,
``label`` for stuff; ``num_classes`` = VOID), instance predictions as
``pred_instances``.
"""
import re
from typing import Dict, List, Tuple, Union

import torch
from mmengine.structures import PixelData
from torch import Tensor

from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.models.detectors.base import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from ..layers.kernel_targets import prepare_kernel_targets
from ..layers.precision import float32_region, to_float32
from ..postprocessing import PanopticOutput

__all__ = ['KNet', 'panoptic_to_mmdet']


def panoptic_to_mmdet(result: PanopticOutput) -> Tensor:
    """[H, W] mmdet panoptic map: things ``label + seg_id * OFFSET``, stuff
    ``label`` (from ``result.sem_seg``). Pixels without segment keep their
    ``sem_seg`` label and join the segment that label came from
    (``fill_ids``), so a thing class never appears without its instance."""
    pan = result.sem_seg.clone()
    if result.num_segments:
        thing_lut = torch.zeros(
            result.num_segments + 1, dtype=torch.long,
            device=pan.device)
        seg = torch.arange(1, result.num_segments + 1, device=pan.device)
        thing_lut[1:] = torch.where(result.is_thing, seg,
                                    torch.zeros_like(seg))
        pan = pan + thing_lut[result.segment_map()] * INSTANCE_OFFSET
    return pan


@MODELS.register_module()
class KNet(BaseDetector):
    """K-Net (Zhang et al., NeurIPS 2021).

    Args:
        backbone, neck (list: FPN, SemanticFPNWrapper), rpn_head, roi_head:
            module configs.
        num_thing_classes (int), num_stuff_classes (int): T and S.
        mask_assign_stride (int): stride of the assignment / loss targets.
        ignore_index (int): void label of ``gt_sem_seg``.
        panoptic (bool): panoptic (else instance) predictions.
        train_cfg, test_cfg: must be None (mmdet's detector signature): the
            heads hold their own settings (``roi_head.test_cfg``, the VIS
            ``tracker.test_cfg``), so a model-level one would be ignored.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: Union[ConfigType, List[ConfigType]],
                 rpn_head: ConfigType,
                 roi_head: ConfigType,
                 num_thing_classes: int = 80,
                 num_stuff_classes: int = 53,
                 mask_assign_stride: int = 4,
                 ignore_index: int = 255,
                 panoptic: bool = True,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.rpn_head = MODELS.build(rpn_head)
        self.roi_head = MODELS.build(roi_head)
        self.num_thing_classes = num_thing_classes
        self.num_stuff_classes = num_stuff_classes
        self.mask_assign_stride = mask_assign_stride
        self.ignore_index = ignore_index
        self.panoptic = panoptic
        for name, value in (('train_cfg', train_cfg), ('test_cfg', test_cfg)):
            if value:
                raise TypeError(
                    f'{type(self).__name__}: model-level {name} is not read '
                    '(inference settings: roi_head.test_cfg)')

    # --------------------------------------------------- checkpoint rules
    def video_only_state_keys(self) -> List[str]:
        """State-dict keys that an image K-Net checkpoint does not hold
        (none: this is the image model; the video models extend it). See
        :mod:`knet.models.utils.checkpoint_loading`."""
        return []

    def class_state_keys(self) -> List[str]:
        """State-dict keys whose shape depends on the number of classes
        (the semantic classifier of the kernel head, the class layers of
        the update stages)."""
        pattern = re.compile(
            r'^(rpn_head\.conv_seg|roi_head\.mask_head\.\d+\.fc_cls)\.')
        return [k for k in self.state_dict() if pattern.match(k)]

    def extract_feat(self, batch_inputs: Tensor) -> List[Tensor]:
        """Semantic FPN outputs ``[loc_feats, sem_feats]``."""
        return self.neck(self.backbone(batch_inputs))

    def _kernel_forward(self, batch_inputs: Tensor):
        rpn_out = self.rpn_head(self.extract_feat(batch_inputs))
        stages = self.roi_head(rpn_out['x_feats'], rpn_out['proposal_feats'],
                               rpn_out['mask_preds'])
        return rpn_out, stages

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: SampleList = None) -> Tuple:
        """Raw outputs: the last stage's class logits and mask logits."""
        _, stages = self._kernel_forward(batch_inputs)
        return stages[-1]['cls_score'], stages[-1]['scaled_mask_preds']

    def _targets(self, samples: SampleList, imgs: Tensor):
        """:class:`~knet.models.layers.KernelTargets` of a batch at the
        assignment stride."""
        pad_shape = tuple(samples[0].metainfo.get('batch_input_shape',
                                                  imgs.shape[-2:]))
        return prepare_kernel_targets(
            samples, pad_shape, self.mask_assign_stride,
            self.num_thing_classes, self.ignore_index,
            with_stuff=self.num_stuff_classes > 0)

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Kernel-head and stage losses."""
        metas = [s.metainfo for s in batch_data_samples]
        targets = self._targets(batch_data_samples, batch_inputs)
        rpn_out = self.rpn_head(self.extract_feat(batch_inputs))
        rpn_losses, _ = self.rpn_head.loss(rpn_out, targets, metas)
        stages = self.roi_head(rpn_out['x_feats'], rpn_out['proposal_feats'],
                               rpn_out['mask_preds'])
        losses, _ = self.roi_head.loss(stages, rpn_out['mask_preds'],
                                       targets, metas)
        losses.update(rpn_losses)
        return losses

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Panoptic (``pred_panoptic_seg``) or instance
        (``pred_instances``) predictions at ``ori_shape``."""
        metas = [s.metainfo for s in batch_data_samples]
        _, stages = self._kernel_forward(batch_inputs)
        # the network may run under autocast, the merge runs in float32
        last = to_float32(stages[-1])
        with float32_region(batch_inputs.device):
            if self.panoptic:
                results = self.roi_head.predict_panoptic(last, metas)
                for sample, res in zip(batch_data_samples, results):
                    sample.pred_panoptic_seg = PixelData(
                        sem_seg=panoptic_to_mmdet(res)[None])
            else:
                results = self.roi_head.predict_instances(last, metas)
                for sample, res in zip(batch_data_samples, results):
                    sample.pred_instances = res
        return batch_data_samples
