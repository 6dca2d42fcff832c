"""Post-processing of K-Net's last stage into panoptic segments or instances.

:class:`KNetPostProcessor` (built by :class:`~knet.models.heads.
KernelIterHead` from its ``test_cfg``) takes plain tensors: the last stage's
class logits [B, N, C], its mask logits [B, N, h, w] (upsampled by the
stage's ``mask_upsample_stride``), optionally the low-resolution logits
they were upsampled from, and the image metas; so an exported network's
outputs go through the same code.

Panoptic: sigmoid scores; thing candidates are the ``max_per_img`` best
(kernel, thing class) pairs (``thing_candidates='topk'``, Video K-Net) or
each thing kernel with its best thing class (``'per_kernel'``, the K-Net
image release); stuff kernel j is scored by its own class. The candidates'
masks are sigmoided and resized as the release does (:func:`rescale_masks`)
and merged (:mod:`.merge`). One switch, ``merge_impl``, picks how the joint
merge is computed; every choice gives the same result bit for bit:

* ``'vectorised'``: the reference :func:`~.merge.merge_joint` on every
  candidate at full resolution: batched ops, one host synchronisation per
  image. The default on GPUs (any non-CPU device).
* ``'tiled'``: :func:`~.tiled.merge_joint_cpu`: exact pruning and the tiled
  merge, many small ops. The default on CPU, where it is several times
  faster (docs/benchmarks.md).
* ``'auto'`` (default): ``'tiled'`` for CPU tensors, else ``'vectorised'``.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.registry import MODELS
from .merge import (UNCOVERED_MODES, PanopticOutput, count_ids, merge_joint,
                    merge_thing_first)
from .tiled import merge_joint_cpu
from .torch_kernels import sigmoid_exact

__all__ = [
    'KNetPostProcessor', 'build_postprocessor', 'rescale_masks',
    'resize_to_image', 'crop_masks', 'mask_boxes', 'MERGE_IMPLS'
]

MERGE_IMPLS = ('auto', 'vectorised', 'tiled')

_MERGE_STUFF_THING = dict(
    overlap_thr=0.6, iou_thr=0.5, stuff_max_area=4096,
    instance_score_thr=0.3)

# test_cfg keys that merge_impl replaced: what to write instead
_MERGE_IMPL_HINT = ("merge_impl ('tiled': the exact CPU fast path, "
                    "'vectorised': every candidate resized; same results)")
_REPLACED_KEYS = dict(
    prune_candidates=_MERGE_IMPL_HINT,
    tiled_merge=_MERGE_IMPL_HINT,
    banded_merge=_MERGE_IMPL_HINT,
    merge_threads='nothing: the model leaves torch\'s thread count alone; '
    'the tool sets it (e.g. --threads 1)')


def resize_to_image(maps: Tensor, img_meta: dict) -> Tensor:
    """[M, 1, h, w] maps -> [M, 1, H, W] at ``ori_shape``, as the release
    resizes masks: bilinear to the padded input, crop to ``img_shape``,
    bilinear to ``ori_shape`` (skipped when it is the crop's size: a
    same-size bilinear resize is the identity)."""
    h, w = img_meta['img_shape'][:2]
    maps = F.interpolate(
        maps, size=tuple(img_meta['batch_input_shape']), mode='bilinear',
        align_corners=False)[..., :h, :w]
    ori = tuple(img_meta['ori_shape'][:2])
    if tuple(maps.shape[-2:]) == ori:
        return maps
    return F.interpolate(maps, size=ori, mode='bilinear', align_corners=False)


def rescale_masks(mask_logits: Tensor, img_meta: dict) -> Tensor:
    """Sigmoid, then :func:`resize_to_image` (the release's order of
    operations). [M, h, w] logits -> [M, H, W] probabilities.

    Every mask is sigmoided with :func:`~.torch_kernels.sigmoid_exact` and
    resized as an image of its own ([M, 1, h, w]), so its values do not
    depend on the other masks resized with it: a pruned or tiled merge
    equals the full one bit for bit."""
    return resize_to_image(sigmoid_exact(mask_logits).unsqueeze(1),
                           img_meta).squeeze(1)


def crop_masks(mask_logits: Tensor, img_meta: dict) -> Tensor:
    """Sigmoid masks at mask resolution, cropped to the image area."""
    pad_h, pad_w = img_meta['batch_input_shape']
    mh, mw = mask_logits.shape[-2:]
    h, w = img_meta['img_shape'][:2]
    ch = int(round(h * mh / pad_h))
    cw = int(round(w * mw / pad_w))
    return sigmoid_exact(mask_logits[:, :ch, :cw])


def mask_boxes(masks: Tensor) -> Tensor:
    """[n, H, W] bool -> [n, 4] float (x1, y1, x2 + 1, y2 + 1), zeros for an
    empty mask: mmdet's ``mask2bbox`` without its per-mask loop."""
    n, h, w = masks.shape
    cols, rows = masks.any(1), masks.any(2)
    x1, y1 = cols.int().argmax(1), rows.int().argmax(1)
    x2 = w - cols.flip(1).int().argmax(1)
    y2 = h - rows.flip(1).int().argmax(1)
    boxes = torch.stack([x1, y1, x2, y2], dim=1).float()
    return boxes * cols.any(1, keepdim=True)


def _nearest(x: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest resize of an [H, W] integer map."""
    return F.interpolate(x[None, None].float(), size,
                         mode='nearest')[0, 0].long()


@MODELS.register_module()
class KNetPostProcessor(BaseModule):
    """Panoptic segments or instances from K-Net's last stage (see module
    doc). No parameters, no gradients; the keyword arguments are
    KernelIterHead's ``test_cfg``.

    Args:
        num_proposals (int): P thing kernels (the rest are stuff kernels).
        num_thing_classes (int), num_stuff_classes (int): T, S.
        max_per_img (int): thing candidates (``'topk'``) / instances
            (default: ``num_proposals``).
        mask_thr (float): binary mask threshold (instances, thing-first
            merge).
        merge_joint (bool): joint argmax merge (else things first).
        merge_stuff_thing (dict): ``overlap_thr``, ``instance_score_thr``
            (both merges), ``iou_thr``, ``stuff_max_area`` (thing-first).
        uncovered (str): 'best_kept' | 'fixed' (see :mod:`.merge`; 'fixed'
            is the release, docs/release_differences.md).
        fill_label (int): the label of uncovered pixels with 'fixed'.
        merge_resolution (str): 'image' (rescale masks to the original image
            first, as the release) or 'mask' (merge at mask resolution and
            upsample the maps: faster, not identical).
        thing_candidates (str): 'topk' | 'per_kernel'.
        merge_impl (str): 'auto' | 'vectorised' | 'tiled' (see module doc).
    """

    def __init__(self,
                 num_proposals: int,
                 num_thing_classes: int,
                 num_stuff_classes: int,
                 max_per_img: Optional[int] = None,
                 mask_thr: float = 0.5,
                 merge_joint: bool = True,
                 merge_stuff_thing: Optional[dict] = None,
                 uncovered: str = 'best_kept',
                 fill_label: int = 0,
                 merge_resolution: str = 'image',
                 thing_candidates: str = 'topk',
                 merge_impl: str = 'auto') -> None:
        super().__init__()
        self.num_proposals = num_proposals
        self.num_thing_classes = num_thing_classes
        self.num_stuff_classes = num_stuff_classes
        self.max_per_img = num_proposals if max_per_img is None \
            else max_per_img
        self.mask_thr = mask_thr
        self.merge_joint = merge_joint
        unknown = set(merge_stuff_thing or {}) - set(_MERGE_STUFF_THING)
        if unknown:
            raise TypeError('unknown merge_stuff_thing key(s): ' +
                            ', '.join(sorted(unknown)))
        self.merge_stuff_thing = dict(_MERGE_STUFF_THING,
                                      **(merge_stuff_thing or {}))
        for name, value, allowed in (
                ('uncovered', uncovered, UNCOVERED_MODES),
                ('merge_resolution', merge_resolution, ('image', 'mask')),
                ('thing_candidates', thing_candidates,
                 ('topk', 'per_kernel')),
                ('merge_impl', merge_impl, MERGE_IMPLS)):
            if value not in allowed:
                raise ValueError(f'{name}={value!r}: expected one of '
                                 f'{", ".join(map(repr, allowed))}')
        self.uncovered = uncovered
        self.fill_label = fill_label
        self.merge_resolution = merge_resolution
        self.thing_candidates = thing_candidates
        self.merge_impl = merge_impl

    def impl_for(self, device: torch.device) -> str:
        """'vectorised' or 'tiled': the merge used for tensors on
        ``device``."""
        if self.merge_impl != 'auto':
            return self.merge_impl
        return 'tiled' if torch.device(device).type == 'cpu' \
            else 'vectorised'

    # ------------------------------------------------------------ panoptic
    def candidates(self, cls_scores: Tensor
                   ) -> Tuple[Tensor, Tensor, Tensor, int]:
        """Merge candidates of one image from its [N, C] sigmoid scores:
        ``(kernel_inds, scores, labels, num_things)``, things first (by
        score for 'topk'), then stuff by score."""
        p, t = self.num_proposals, self.num_thing_classes
        if self.thing_candidates == 'per_kernel':
            thing_scores, thing_labels = cls_scores[:p, :t].max(dim=1)
            thing_kernels = torch.arange(p, device=cls_scores.device)
        else:
            thing_scores, topk = cls_scores[:p, :t].flatten().topk(
                min(self.max_per_img, p * t), sorted=True)
            thing_kernels = topk // t
            thing_labels = topk % t
        stuff_scores, stuff_inds = torch.sort(
            cls_scores[p:, t:].diagonal(), descending=True)
        return (torch.cat([thing_kernels, stuff_inds + p]),
                torch.cat([thing_scores, stuff_scores]),
                torch.cat([thing_labels, stuff_inds + t]),
                thing_kernels.numel())

    @torch.no_grad()
    def panoptic(self, cls_scores: Tensor, mask_logits: Tensor,
                 img_meta: dict,
                 low_res_logits: Optional[Tensor] = None) -> PanopticOutput:
        """Panoptic merge of one image.

        Args:
            cls_scores: [N, num_classes] sigmoid scores.
            mask_logits: [N, h, w] (scaled) mask logits of the last stage.
            low_res_logits: [N, h', w'] the logits ``mask_logits`` were
                bilinearly upsampled from (optional; the CPU path bounds the
                candidates' values there, which is cheaper).

        Returns:
            :class:`~.merge.PanopticOutput` at ``ori_shape`` with
            ``kernel_inds``.
        """
        kernel_inds, scores, labels, nt = self.candidates(cls_scores)
        t = self.num_thing_classes
        image_res = self.merge_resolution == 'image'
        resize = rescale_masks if image_res else crop_masks

        def masks_of(kernels: Tensor) -> Tensor:
            return resize(mask_logits[kernels], img_meta)

        mst = self.merge_stuff_thing
        common = dict(
            instance_score_thr=mst['instance_score_thr'],
            uncovered=self.uncovered,
            fill_label=self.fill_label)
        joint = dict(common, overlap_thr=mst['overlap_thr'])
        if not self.merge_joint:
            masks = masks_of(kernel_inds)
            result = merge_thing_first(
                masks[:nt], scores[:nt], labels[:nt], masks[nt:],
                scores[nt:], labels[nt:],
                mask_thr=self.mask_thr,
                iou_thr=mst['iou_thr'],
                stuff_max_area=mst['stuff_max_area'],
                **common)
        elif self.impl_for(mask_logits.device) == 'tiled':
            result = merge_joint_cpu(mask_logits, kernel_inds, scores,
                                     labels, t, img_meta, masks_of,
                                     low_res_logits, tile=image_res,
                                     **joint)
        else:
            result = merge_joint(masks_of(kernel_inds), scores, labels, t,
                                 **joint)
        if not image_res:
            size = tuple(img_meta['ori_shape'][:2])
            result.seg_ids = _nearest(result.seg_ids, size)
            result.sem_seg = _nearest(result.sem_seg, size)
            result.fill_ids = _nearest(result.fill_ids, size)
            result.areas = count_ids(result.seg_ids,
                                     result.num_segments + 1)[1:]
        result.kernel_inds = kernel_inds[result.cand_inds]
        return result

    @torch.no_grad()
    def predict_panoptic(self,
                         cls_logits: Tensor,
                         mask_logits: Tensor,
                         batch_img_metas: Sequence[dict],
                         low_res_logits: Optional[Tensor] = None
                         ) -> List[PanopticOutput]:
        """:meth:`panoptic` of every image of a batch.

        Args:
            cls_logits: [B, N, C] class logits of the last stage.
            mask_logits: [B, N, h, w] its (scaled) mask logits.
            low_res_logits: [B, N, h', w'] the logits ``mask_logits`` were
                upsampled from, or None (ignored unless smaller).
        """
        scores = cls_logits.sigmoid()
        low = low_res_logits
        if low is not None and (low.shape[-1] >= mask_logits.shape[-1]
                                or low.shape[:2] != mask_logits.shape[:2]):
            low = None  # not an upsampling source of the merged logits
        return [
            self.panoptic(scores[i], mask_logits[i], meta,
                          None if low is None else low[i])
            for i, meta in enumerate(batch_img_metas)
        ]

    # ----------------------------------------------------------- instances
    @torch.no_grad()
    def predict_instances(self, cls_logits: Tensor, mask_logits: Tensor,
                          batch_img_metas: Sequence[dict]
                          ) -> List[InstanceData]:
        """Top-k (kernel, class) instances with binary masks at
        ``ori_shape``: ``scores``, ``labels``, ``masks``, ``bboxes``,
        ``kernel_inds``."""
        scores_all = cls_logits.sigmoid()
        results = []
        for i, meta in enumerate(batch_img_metas):
            cls = scores_all[i]
            num_cls = cls.shape[1]
            scores, topk = cls.flatten().topk(
                min(self.max_per_img, cls.numel()), sorted=True)
            kernels = topk // num_cls
            masks = rescale_masks(mask_logits[i][kernels], meta) > \
                self.mask_thr
            results.append(InstanceData(
                scores=scores,
                labels=topk % num_cls,
                masks=masks,
                bboxes=mask_boxes(masks),
                kernel_inds=kernels))
        return results


def build_postprocessor(num_proposals: int, num_thing_classes: int,
                        num_stuff_classes: int,
                        test_cfg: Optional[Dict] = None) -> KNetPostProcessor:
    """The :class:`KNetPostProcessor` of a KernelIterHead with these sizes
    and ``test_cfg``; a key that merge_impl replaced raises an error that
    says what to write instead (other unknown keys: the constructor's)."""
    test_cfg = dict(test_cfg or {})
    replaced = sorted(set(test_cfg) & set(_REPLACED_KEYS))
    if replaced:
        key = replaced[0]
        raise TypeError(f'test_cfg key {key!r} was replaced: use '
                        f'{_REPLACED_KEYS[key]}')
    return MODELS.build(
        dict(type='KNetPostProcessor', num_proposals=num_proposals,
             num_thing_classes=num_thing_classes,
             num_stuff_classes=num_stuff_classes, **test_cfg))

