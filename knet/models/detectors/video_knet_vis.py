"""Video K-Net for video instance segmentation (YouTube-VIS).

Training sample: a :class:`TrackDataSample` of F consecutive frames (5 in
the release). Every frame goes through the image K-Net (backbone, neck,
kernel head, kernel update stages; per-frame losses as the image model).
Then the clip head (``tracker``, :class:`~knet.models.heads.ClipKernelHead`,
named as the release's module so checkpoints map one to one) fuses the
last-stage kernels over the frames, updates and classifies the clip kernels
and predicts per-frame masks; it is supervised with a tube-level Hungarian
assignment (``tracker_s{i}_*`` losses).

Inference: one TrackDataSample per video (video-level sampling, as mmdet's
Mask2Former-VIS). The release ran the whole video as one clip; here the video
is processed in overlapping windows of ``window_size`` frames whose kernels
are associated (:mod:`.vis_windows`), so peak memory depends on the window,
not on the video length (``window_size=0``: one clip, the release). The
top ``max_per_video`` (track, class) pairs become the video's instances;
each frame's DetDataSample gets ``pred_track_instances`` (``instances_id`` =
rank of the pair, the same in every frame as the release's ids, ``labels``,
``scores``, ``masks`` bool at ``ori_shape``, ``bboxes``) for mmdet's
``YouTubeVISMetric``.
"""
import warnings
from typing import Dict, List, Sequence

import numpy as np
import torch
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from mmdet.utils import ConfigType
from ..heads.clip_kernel_head import build_tube_targets
from ..layers.kernel_targets import prepare_kernel_targets
from ..layers.precision import float32_region, to_float32
from ..postprocessing import mask_boxes, rescale_masks
from .knet import KNet
from .vis_windows import (TrackScoreAccumulator, associate_kernels,
                          owned_ranges, plan_windows)

__all__ = ['VideoKNetVIS']


def _rle_encode(masks: np.ndarray) -> list:
    """[n, H, W] bool -> list of COCO RLEs (compact storage between
    windows)."""
    from pycocotools import mask as mask_utils
    if masks.shape[0] == 0:
        return []
    return mask_utils.encode(
        np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))


def _rle_decode(rles: list, shape) -> np.ndarray:
    from pycocotools import mask as mask_utils
    if not rles:
        return np.zeros((0, *shape), dtype=bool)
    return mask_utils.decode(rles).transpose(2, 0, 1).astype(bool)


@MODELS.register_module()
class VideoKNetVIS(KNet):
    """Video K-Net for VIS (see module doc).

    Args:
        tracker (dict): :class:`ClipKernelHead` config.
        window_size (int): frames per inference window (0: whole video).
        window_overlap (int): frames shared by consecutive windows.
        assoc_kernel_weight (float), assoc_mask_weight (float): weights of
            the kernel cosine similarity and of the overlap-mask soft dice in
            the association of windows.
        num_candidates (int): kernels per window (by best class score) whose
            masks are kept for the final selection; a selected track that
            was not a candidate of a window gets empty masks there. With one
            window any value >= ``max_per_video`` is exact.
        frame_batch (int): frames per backbone forward inside a window
            (0: the whole window at once).
        **kwargs: :class:`KNet` arguments (``panoptic`` must be False).
    """

    def __init__(self,
                 *args,
                 tracker: ConfigType,
                 window_size: int = 0,
                 window_overlap: int = 0,
                 assoc_kernel_weight: float = 1.0,
                 assoc_mask_weight: float = 1.0,
                 num_candidates: int = 30,
                 frame_batch: int = 0,
                 **kwargs) -> None:
        if kwargs.pop('panoptic', False):
            raise ValueError('VideoKNetVIS predicts instances: panoptic=True '
                             'is not supported')
        super().__init__(*args, panoptic=False, **kwargs)
        self.tracker = MODELS.build(tracker)
        self.window_size = window_size
        self.window_overlap = window_overlap
        self.assoc_kernel_weight = assoc_kernel_weight
        self.assoc_mask_weight = assoc_mask_weight
        self.num_candidates = num_candidates
        self.frame_batch = frame_batch

    def video_only_state_keys(self) -> List[str]:
        """Keys an image K-Net checkpoint lacks: the clip head."""
        return [k for k in self.state_dict() if k.startswith('tracker.')]

    def init_weights(self) -> None:
        """mmengine's recursive init does not reach the kernel update stages
        held in ``roi_head.mask_head`` (an ``nn.ModuleList``): initialise
        them explicitly (xavier + focal prior of the release)."""
        super().init_weights()
        for head in self.roi_head.mask_head:
            head.init_weights()

    # ------------------------------------------------------------ training
    def loss(self, inputs: Tensor,
             data_samples: List[TrackDataSample]) -> Dict[str, Tensor]:
        """Per-frame kernel-head and stage losses of every frame of every
        clip, plus the clip head's tube losses (``tracker_s{i}_*``)."""
        if inputs.dim() == 4:
            inputs = inputs[:, None]
        b, f = inputs.shape[:2]
        frames = [s for track in data_samples
                  for s in track.video_data_samples]
        metas = [s.metainfo for s in frames]
        imgs = inputs.flatten(0, 1)
        pad_shape = tuple(metas[0].get('batch_input_shape', imgs.shape[-2:]))
        targets = prepare_kernel_targets(
            frames, pad_shape, self.mask_assign_stride,
            self.num_thing_classes, self.ignore_index, with_stuff=False)
        rpn_out = self.rpn_head(self.extract_feat(imgs))
        rpn_losses, _ = self.rpn_head.loss(rpn_out, targets, metas)
        stages = self.roi_head(rpn_out['x_feats'], rpn_out['proposal_feats'],
                               rpn_out['mask_preds'])
        losses, _ = self.roi_head.loss(stages, rpn_out['mask_preds'],
                                       targets, metas)
        losses.update(rpn_losses)

        clip_out = self._clip_forward(rpn_out, stages[-1], b, f)
        tubes = [
            build_tube_targets([targets[i * f + t].things for t in range(f)])
            for i in range(b)
        ]
        losses.update(self.tracker.loss(clip_out, tubes))
        return losses

    def _clip_forward(self, rpn_out: dict, last: dict, b: int, f: int):
        x = rpn_out['x_feats']
        obj = last['object_feats']
        masks = last['mask_preds']
        return self.tracker(
            x.reshape(b, f, *x.shape[1:]), obj.reshape(b, f, *obj.shape[1:]),
            masks.reshape(b, f, *masks.shape[1:]))

    # ----------------------------------------------------------- inference
    def _window_forward(self, frames: Tensor) -> dict:
        """Clip inference on [F, 3, H, W] normalised frames of one window.

        Returns ``scores`` [N, C] (sigmoid), ``embed`` [N, D] (clip kernels)
        and ``masks`` [F, N, h, w] mask logits at the assignment stride.
        """
        step = self.frame_batch or frames.shape[0]
        x_feats, obj, masks = [], [], []
        for s in range(0, frames.shape[0], step):
            rpn_out, stages = self._kernel_forward(frames[s:s + step])
            x_feats.append(rpn_out['x_feats'])
            obj.append(stages[-1]['object_feats'])
            masks.append(stages[-1]['mask_preds'])
            del rpn_out, stages
        return self.clip_outputs(
            torch.cat(x_feats), torch.cat(obj), torch.cat(masks))

    def clip_outputs(self, x_feats: Tensor, obj_feats: Tensor,
                     mask_preds: Tensor) -> Dict[str, Tensor]:
        """The clip head on the image network's outputs for the F frames of
        one window (``x_feats`` [F, C, h, w], last-stage ``obj_feats``
        [F, N, C, K, K] and ``mask_preds`` [F, N, h, w]); returns what
        :meth:`_window_forward` does."""
        outs = self.tracker(x_feats[None], obj_feats[None], mask_preds[None])
        ncs = self.tracker.num_clip_stages
        return dict(
            scores=self.tracker.last_cls_score(outs)[0].sigmoid(),
            embed=outs[ncs - 1]['object_feats'][0].flatten(1),
            masks=outs[-1]['scaled_mask_preds'][0])

    def _frame_masks(self, logits: Tensor, meta: dict) -> np.ndarray:
        """[M, h, w] mask logits -> [M, H, W] bool at ori_shape (the
        release's rescale: sigmoid, padded size, crop, ori size, > thr)."""
        with float32_region(logits.device):
            probs = rescale_masks(logits.float(), meta)
        return (probs > self.tracker.test_cfg['mask_thr']).cpu().numpy()

    def predict_video(self, video: Tensor,
                      metas: Sequence[dict]) -> List[InstanceData]:
        """Windowed inference of one video.

        Args:
            video: [T, 3, H, W] normalised (padded) frames.
            metas: T frame metainfos (``img_shape``, ``ori_shape``,
                ``batch_input_shape``).

        Returns:
            T InstanceData (``instances_id``, ``labels``, ``scores``,
            ``masks``, ``bboxes``), the same tracks in every frame.
        """
        num_frames = video.shape[0]
        windows = plan_windows(num_frames, self.window_size,
                               self.window_overlap)
        owners = owned_ranges(windows)
        num_kernels = self.tracker.num_proposals
        acc = TrackScoreAccumulator(num_kernels, self.tracker.num_classes)
        stored: List[Dict[int, dict]] = [dict() for _ in range(num_frames)]
        prev = None
        for w, ((s, e), (own_s, own_e)) in enumerate(zip(windows, owners)):
            # the network may run under autocast, association and masks
            # are computed in float32
            out = to_float32(self._window_forward(video[s:e]))
            if prev is None:
                track_of = torch.arange(num_kernels, device=video.device)
            else:
                ov = prev['end'] - s
                with float32_region(video.device):
                    match = associate_kernels(
                        prev['embed'], out['embed'], prev['tail'],
                        out['masks'][:ov].sigmoid(),
                        self.assoc_kernel_weight, self.assoc_mask_weight)
                track_of = prev['track_of'][match]
            acc.add(track_of, out['scores'], own_e - own_s)
            nc = min(max(self.num_candidates,
                         self.tracker.test_cfg['max_per_video']), num_kernels)
            cand = out['scores'].max(1).values.topk(nc).indices
            cand_tracks = track_of[cand].tolist()
            for t in range(own_s, own_e):
                masks = self._frame_masks(out['masks'][t - s, cand], metas[t])
                stored[t] = dict(zip(cand_tracks, _rle_encode(masks)))
            nxt = windows[w + 1][0] if w + 1 < len(windows) else e
            prev = dict(
                end=e,
                embed=out['embed'],
                track_of=track_of,
                tail=out['masks'][nxt - s:].sigmoid())
            del out
        return self._select(acc.result(), stored, metas)

    def _select(self, scores: Tensor, stored: List[Dict[int, dict]],
                metas: Sequence[dict]) -> List[InstanceData]:
        """Top-k (track, class) pairs of the video -> per-frame results."""
        num_cls = scores.shape[1]
        k = min(self.tracker.test_cfg['max_per_video'], scores.numel())
        top_scores, top = scores.flatten().topk(k, sorted=True)
        tracks = (top // num_cls).tolist()
        labels = top % num_cls
        results = []
        for t, meta in enumerate(metas):
            shape = tuple(meta['ori_shape'][:2])
            frame = stored[t]
            have = [j for j, tr in enumerate(tracks) if tr in frame]
            masks = np.zeros((k, *shape), dtype=bool)
            if have:
                masks[have] = _rle_decode([frame[tracks[j]] for j in have],
                                          shape)
            masks = torch.from_numpy(masks).to(scores.device)
            results.append(
                InstanceData(
                    instances_id=torch.arange(k, device=scores.device),
                    track_ids=top // num_cls,
                    labels=labels,
                    scores=top_scores,
                    masks=masks,
                    bboxes=mask_boxes(masks)))
        return results

    def predict(self,
                inputs: Tensor,
                data_samples: List[TrackDataSample],
                rescale: bool = True) -> List[TrackDataSample]:
        """Predict every video of the batch.

        Args:
            inputs: [N, T, 3, H, W], one whole video per sample.
            data_samples: N TrackDataSamples of T DetDataSamples.

        Each frame's DetDataSample gets ``pred_track_instances``.
        """
        if not rescale:
            warnings.warn('VideoKNetVIS always predicts at ori_shape')
        if inputs.dim() == 4:
            inputs = inputs[:, None]
        for i, track in enumerate(data_samples):
            frames = track.video_data_samples
            metas = [f.metainfo for f in frames]
            for t, res in enumerate(self.predict_video(inputs[i], metas)):
                frames[t].pred_track_instances = res
        return data_samples

    def _forward(self, inputs: Tensor, data_samples=None):
        """Raw clip outputs: class logits of the last classifying stage and
        the last stage's per-frame mask logits of every clip."""
        if inputs.dim() == 4:
            inputs = inputs[:, None]
        b, f = inputs.shape[:2]
        rpn_out, stages = self._kernel_forward(inputs.flatten(0, 1))
        outs = self._clip_forward(rpn_out, stages[-1], b, f)
        return (self.tracker.last_cls_score(outs),
                outs[-1]['scaled_mask_preds'])
