"""Video K-Net for video panoptic segmentation (Li et al., CVPR 2022).

Image K-Net (:class:`~knet.models.detectors.knet.KNet`) plus:

* kernel association embeddings (KAE): the last stage's thing kernels ->
  ``embed_fcs`` (Linear without bias + LN + ReLU) -> ``fc_embed`` ->
  ``track_head``; trained with the association losses over the
  Hungarian-positive kernels of a key and a reference frame;
* kernel linking (KL): the key frame's last stage cross-attends to the
  reference (training) / previous (inference) frame's final kernels; the
  linked kernels feed only the embedding (``object_feats_track``);
* kernel fusion (KF): ``previous_link='update_dynamic_cov'`` in the update
  heads' config (nothing to do here: the same previous kernels are passed);
* online inference with :class:`~knet.models.trackers.KernelTracker`.

Training sample: a :class:`TrackDataSample` with a key and a reference frame
(``key_frames_inds`` / ``ref_frames_inds``). Prediction: one frame per sample
in video order; the online state (previous kernels, tracker memory) is reset
whenever the ``video_id`` of the data sample changes.

Deliberate differences from the release (track id write-back, semantic
filter alignment, uncovered pixels, online state reset, batches) and the
switches restoring it: docs/release_differences.md.
"""
import warnings
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.structures import InstanceData, PixelData
from torch import Tensor, nn

from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.utils import ConfigType
from ..layers.precision import float32_region, to_float32
from ..postprocessing import semantic_thing_mask
from ..task_modules.kernel_assignment import KernelAssignment
from .knet import KNet
from .video_knet_utils import (boxes_from_label_map, gt_match_indices,
                               paint_track_ids, segment_track_ids)

__all__ = ['VideoKNet']


@MODELS.register_module()
class VideoKNet(KNet):
    """Video K-Net (panoptic); see module doc.

    Args:
        track_head: :class:`~knet.models.heads.KernelTrackHead` config.
        tracker: :class:`~knet.models.trackers.KernelTracker` config.
        embed_channels: width of ``embed_fcs`` / ``fc_embed`` (= kernel
            channels; the release hard-codes 256).
        link_previous: link the last stage to the previous frame's kernels.
        semantic_filter: tracker boxes use only the thing pixels on which the
            kernel head's semantic prediction is a thing class.
        semantic_filter_align: resize the semantic logits like the masks
            (padded input size, crop, original size). False: the release
            (docs/release_differences.md).
        track_id_writeback: 'index' writes each id on the mask it was
            computed for; 'position': the release
            (docs/release_differences.md).
        **kwargs: :class:`KNet` arguments.
    """

    def __init__(self,
                 *args,
                 track_head: ConfigType,
                 tracker: ConfigType = dict(type='KernelTracker'),
                 embed_channels: int = 256,
                 link_previous: bool = True,
                 semantic_filter: bool = True,
                 semantic_filter_align: bool = True,
                 track_id_writeback: str = 'index',
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assert track_id_writeback in ('index', 'position')
        self.embed_fcs = nn.Sequential(
            nn.Linear(embed_channels, embed_channels, bias=False),
            nn.LayerNorm(embed_channels), nn.ReLU(inplace=True))
        self.fc_embed = nn.Linear(embed_channels, embed_channels)
        self.track_head = MODELS.build(track_head)
        self.tracker = MODELS.build(tracker)
        self.link_previous = link_previous
        self.semantic_filter = semantic_filter
        self.semantic_filter_align = semantic_filter_align
        self.track_id_writeback = track_id_writeback
        self.reset_video_state()

    # --------------------------------------------------------------- state
    def reset_video_state(self) -> None:
        """Forget the previous frame and the tracker memory."""
        self._video_id = None
        self._prev_obj_feats: Optional[Tensor] = None
        self._frame_index = 0
        self.tracker.reset()

    def video_only_state_keys(self) -> List[str]:
        """Keys an image K-Net checkpoint lacks: the association embedding
        (``embed_fcs``, ``fc_embed``, ``track_head``) and the update stages'
        linking / fusion modules."""
        prefixes = ['track_head.', 'embed_fcs.', 'fc_embed.']
        for i, head in enumerate(self.roi_head.mask_head):
            prefixes += [f'roi_head.mask_head.{i}.{name}.'
                         for name in head.link_module_names()]
        return [k for k in self.state_dict() if k.startswith(tuple(prefixes))]

    # ----------------------------------------------------------- embedding
    def embed_kernels(self, kernels: Tensor) -> Tensor:
        """[..., C, K, K] kernels -> [..., C'] (``embed_fcs`` + ``fc_embed``),
        the input of ``track_head``."""
        x = kernels.flatten(-3)
        return self.fc_embed(self.embed_fcs(x))

    # ------------------------------------------------------------ training
    @staticmethod
    def _split_key_ref(inputs: Tensor, data_samples: List[TrackDataSample]
                       ) -> Tuple[Tensor, Tensor, list, list]:
        key_imgs, ref_imgs, key_samples, ref_samples = [], [], [], []
        for i, sample in enumerate(data_samples):
            k = int(sample.metainfo.get('key_frames_inds', [0])[0])
            r = int(sample.metainfo.get('ref_frames_inds', [1])[0])
            key_imgs.append(inputs[i, k])
            ref_imgs.append(inputs[i, r])
            key_samples.append(sample[k])
            ref_samples.append(sample[r])
        return (torch.stack(key_imgs), torch.stack(ref_imgs), key_samples,
                ref_samples)

    def _frame_losses(self, imgs: Tensor, samples: List[DetDataSample],
                      previous_obj_feats: Optional[Tensor] = None,
                      targets: Optional[list] = None):
        """Kernel-head and stage losses of one frame of every sample."""
        metas = [s.metainfo for s in samples]
        if targets is None:
            targets = self._targets(samples, imgs)
        rpn_out = self.rpn_head(self.extract_feat(imgs))
        rpn_losses, rpn_assign = self.rpn_head.loss(rpn_out, targets, metas)
        stages = self.roi_head(
            rpn_out['x_feats'],
            rpn_out['proposal_feats'],
            rpn_out['mask_preds'],
            previous_obj_feats=previous_obj_feats)
        stage_losses, stage_assign = self.roi_head.loss(
            stages, rpn_out['mask_preds'], targets, metas)
        track_assign = self.roi_head.assign_final(stages[-1], targets, metas)
        return dict(
            targets=targets,
            metas=metas,
            stages=stages,
            rpn_losses=rpn_losses,
            stage_losses=stage_losses,
            assign=dict(
                rpn=rpn_assign, stages=stage_assign, track=track_assign))

    def _positive_embeddings(self, kernels: Tensor,
                             assign_results: list) -> Tuple[list, list]:
        """Track-head embeddings of the Hungarian-positive thing kernels of
        each image and their (0-based) GT indices."""
        emb = self.embed_kernels(kernels[:, :self.roi_head.num_proposals])
        assign = KernelAssignment.from_results(assign_results, emb.device)
        feats, gt_inds = [], []
        for i in range(len(assign)):
            pos, gt = assign.image_positives(i)
            feats.append(self.track_head(emb[i, pos]))
            gt_inds.append(gt)
        return feats, gt_inds

    def loss(self, inputs: Tensor,
             data_samples: List[TrackDataSample]) -> Dict[str, Tensor]:
        """Losses of a key/reference pair per sample.

        Keys: key-frame stage losses ``s{i}_*``, reference kernel-head losses
        ``*_ref_rpn``, key kernel-head losses, reference stage losses
        ``s{i}_*_ref`` and ``loss_track`` / ``loss_track_aux`` (the release's
        order).
        """
        key_imgs, ref_imgs, key_samples, ref_samples = self._split_key_ref(
            inputs, data_samples)
        # both frames' targets first: their one host copy (the stuff classes
        # present) then finds the device queue nearly empty
        ref_targets = self._targets(ref_samples, ref_imgs)
        key_targets = self._targets(key_samples, key_imgs)
        ref = self._frame_losses(ref_imgs, ref_samples, targets=ref_targets)
        prev = ref['stages'][-1]['object_feats'] if self.link_previous \
            else None
        key = self._frame_losses(key_imgs, key_samples, prev,
                                 targets=key_targets)

        key_last = key['stages'][-1]
        key_kernels = key_last['object_feats_track'] \
            if key_last.get('object_feats_track') is not None \
            else key_last['object_feats']
        key_feats, key_gt = self._positive_embeddings(
            key_kernels, key['assign']['track'])
        ref_feats, ref_gt = self._positive_embeddings(
            ref['stages'][-1]['object_feats'], ref['assign']['track'])
        matches = [
            gt_match_indices(k.gt_instances.instances_ids.to(inputs.device),
                             r.gt_instances.instances_ids.to(inputs.device))
            for k, r in zip(key_samples, ref_samples)
        ]
        targets, weights = self.track_head.get_track_targets(
            matches, key_gt, ref_gt)
        track_losses = self.track_head.loss(key_feats, ref_feats, targets,
                                            weights)

        losses = dict(key['stage_losses'])
        losses.update({f'{k}_ref_rpn': v for k, v in ref['rpn_losses'].items()})
        losses.update(key['rpn_losses'])
        losses.update({f'{k}_ref': v for k, v in ref['stage_losses'].items()})
        losses.update(track_losses)
        return losses

    # ----------------------------------------------------------- inference
    def _semantic_thing_mask(self, seg_preds: Tensor, meta: dict) -> Tensor:
        """[H, W] bool at ori_shape: the kernel head's semantic argmax is a
        thing class (:func:`~knet.models.postprocessing.
        semantic_thing_mask`; pruned where the panoptic merge takes its CPU
        path)."""
        prune = self.roi_head.postprocessor.impl_for(
            seg_preds.device) == 'tiled'
        return semantic_thing_mask(seg_preds, meta, self.num_thing_classes,
                                   self.semantic_filter_align, prune)

    def forward_frame(self,
                      img: Tensor,
                      previous_obj_feats: Optional[Tensor] = None,
                      previous_valid: Optional[Tensor] = None
                      ) -> Dict[str, Optional[Tensor]]:
        """The per-frame network (what ``knet.deployment`` exports).

        Args:
            img: [B, 3, H, W] normalised, padded frames.
            previous_obj_feats: [B, N, C, K, K] the previous frame's final
                kernels (linking / fusion of the last stage), or None.
            previous_valid: optional [B] bool, which of them are real
                (see :meth:`KernelUpdateHead.forward`).

        Returns:
            The last stage's ``cls_score`` [B, N, num_classes],
            ``mask_preds`` [B, N, h, w] (stride 8), ``scaled_mask_preds``
            (upsampled), ``object_feats`` [B, N, C, K, K] (the next frame's
            previous kernels), ``object_feats_track`` (linked kernels, or
            None) and the kernel head's ``seg_preds`` [B, classes, h, w].
        """
        rpn_out = self.rpn_head(self.extract_feat(img))
        last = self.roi_head(
            rpn_out['x_feats'],
            rpn_out['proposal_feats'],
            rpn_out['mask_preds'],
            previous_obj_feats=previous_obj_feats,
            previous_valid=previous_valid)[-1]
        keys = ('cls_score', 'mask_preds', 'scaled_mask_preds',
                'object_feats', 'object_feats_track')
        out = {k: last.get(k) for k in keys}
        out['seg_preds'] = rpn_out['seg_preds']
        return out

    def thing_embeddings(self, frame_out: Dict[str, Optional[Tensor]],
                         kernel_inds: Tensor) -> Tensor:
        """Track embeddings [n, D] of thing kernels ``kernel_inds`` of image
        0: rows of ``frame_out['track_embeds']`` when the network computed
        them for every thing kernel (an exported network), else
        ``track_head(embed_kernels(...))`` of the linked kernels (the
        unlinked ones on a first frame)."""
        embeds = frame_out.get('track_embeds')
        if embeds is not None:
            return embeds[0, kernel_inds]
        kernels = frame_out['object_feats_track']
        if kernels is None:  # first frame: no link
            kernels = frame_out['object_feats']
        return self.track_head(self.embed_kernels(kernels[0, kernel_inds]))

    def _predict_frame(self, img: Tensor, sample: DetDataSample) -> None:
        meta = sample.metainfo
        video_id = meta.get('video_id')
        if video_id is None:
            # without a video id, frame 0 starts a sequence
            video_id = self._video_id if meta.get('frame_id', 0) else object()
        if video_id != self._video_id:
            self.reset_video_state()
            self._video_id = video_id

        prev = self._prev_obj_feats if self.link_previous else None
        last = self.forward_frame(img, prev)
        # the network may run under autocast; merging, embedding and
        # tracking run in float32
        with float32_region(img.device):
            self._postprocess_frame(to_float32(last), sample)

    def _postprocess_frame(self, last: Dict[str, Optional[Tensor]],
                           sample: DetDataSample) -> None:
        """Panoptic merge, embeddings, tracking and packing of one frame
        from the network's (float32) outputs (:meth:`forward_frame`)."""
        meta = sample.metainfo
        pano = self.roi_head.predict_panoptic(last, [meta])[0]

        thing_segs = torch.nonzero(pano.is_thing).flatten()
        seg_ids = thing_segs + 1
        kernel_inds = pano.kernel_inds[thing_segs]
        # pixels no segment claims join the segment whose class they took
        # (uncovered='best_kept'): a thing class never appears without its
        # instance and track id
        seg_map = pano.segment_map()
        # thing index map (0 = none, k = k-th thing segment): boxes and
        # masks come from it, no per-segment soft masks
        num_things = int(thing_segs.numel())
        lut = torch.zeros(pano.num_segments + 1, dtype=torch.long,
                          device=pano.seg_ids.device)
        lut[seg_ids] = torch.arange(1, num_things + 1, device=lut.device)
        thing_map = lut[seg_map]
        masks = thing_map[None] == torch.arange(
            1, num_things + 1, device=lut.device).view(-1, 1, 1)
        labels = pano.labels[thing_segs]
        scores = pano.scores[thing_segs]
        box_map = thing_map
        if self.semantic_filter and num_things:
            box_map = thing_map * self._semantic_thing_mask(
                last['seg_preds'][0], meta)
        bboxes = boxes_from_label_map(box_map, num_things).to(scores.device)
        track_ids = torch.zeros_like(labels)
        if thing_segs.numel():
            feats = self.thing_embeddings(last, kernel_inds)
            res = self.tracker.match(
                torch.cat([bboxes, scores[:, None]], dim=1), labels, feats,
                self._frame_index)
            track_ids = segment_track_ids(
                res.ids, res.sorted_ids,
                self.track_id_writeback).to(labels.device)
        track_map = paint_track_ids(seg_map, seg_ids, track_ids,
                                    pano.num_segments)

        self._prev_obj_feats = last['object_feats'].detach()
        self._frame_index += 1
        sample.pred_panoptic_seg = PixelData(
            sem_seg=pano.sem_seg[None].long(), track_ids=track_map[None])
        sample.pred_instances = InstanceData(
            labels=labels,
            scores=scores,
            masks=masks,
            bboxes=bboxes,
            instances_id=track_ids)

    def predict(self,
                inputs: Tensor,
                data_samples: List[TrackDataSample],
                rescale: bool = True) -> List[TrackDataSample]:
        """Online prediction, frame by frame in the given order.

        Args:
            inputs: [N, T, C, H, W] (T frames per sample, usually 1).
            data_samples: N TrackDataSamples of T DetDataSamples.

        Each frame's DetDataSample gets ``pred_panoptic_seg`` with
        ``sem_seg`` [1, H, W] (model labels) and ``track_ids`` [1, H, W]
        (0 = none) at ``ori_shape``, and ``pred_instances`` (kept things).
        """
        if not rescale:
            warnings.warn('VideoKNet always predicts at ori_shape')
        if inputs.dim() == 4:  # [N, C, H, W]: one frame per sample
            inputs = inputs[:, None]
        for i, sample in enumerate(data_samples):
            frames = sample.video_data_samples if isinstance(
                sample, TrackDataSample) else [sample]
            for t, frame in enumerate(frames):
                self._predict_frame(inputs[i, t:t + 1], frame)
        return data_samples

    def _forward(self, inputs: Tensor, data_samples=None):
        """Raw outputs of the first frame of each sample (no link)."""
        if inputs.dim() == 5:
            inputs = inputs[:, 0]
        return super()._forward(inputs, data_samples)
