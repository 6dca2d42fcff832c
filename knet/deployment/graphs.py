"""The exportable networks of Video K-Net models (pure PyTorch modules).

Each wrapper calls the model's own network methods, so the exported graph is
the network that runs in PyTorch; everything after it (panoptic merge,
semantic filter, tracker, VIS window association and ranking) stays the
model's Python code and runs on the graph's outputs for both backends.

* :class:`FrameGraph` (``VideoKNet``, video panoptic segmentation): one frame
  and the previous frame's kernels in; the last stage's classes, masks and
  kernels, the kernel head's semantic logits and the track embeddings of
  every thing kernel out (:meth:`VideoKNet.forward_frame`).

  Input convention for the first frame of a sequence: ``prev_kernels`` is
  any tensor of its shape (zeros) and ``prev_valid`` is False; the graph then
  skips the fusion and uses the unlinked kernels for the embeddings, as the
  PyTorch model does without previous kernels (both branches are computed,
  ``where`` selects). A model without linking (``link_previous=False``) has
  the image input only.

* :class:`ClipGraph` (``VideoKNetVIS``, video instance segmentation): the F
  frames of one window in (F free), the window's clip scores, clip kernels
  and per-frame masks out (what ``VideoKNetVIS._window_forward`` returns).
"""
from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

__all__ = ['FrameGraph', 'ClipGraph', 'build_graph', 'graph_kind']

#: graph kinds, as written into the ONNX metadata
FRAME_KIND = 'video-knet-frame'
CLIP_KIND = 'video-knet-clip'


def graph_kind(model: nn.Module) -> str:
    """``'video-knet-frame'`` for a ``VideoKNet``, ``'video-knet-clip'``
    for a ``VideoKNetVIS``; ValueError for other models."""
    from knet.models.detectors import VideoKNet, VideoKNetVIS
    if isinstance(model, VideoKNetVIS):
        return CLIP_KIND
    if isinstance(model, VideoKNet):
        return FRAME_KIND
    raise ValueError(f'{type(model).__name__} cannot be exported: only '
                     'VideoKNet (VPS) and VideoKNetVIS (VIS) models')


class FrameGraph(nn.Module):
    """Per-frame network of a ``VideoKNet`` (see module doc).

    Inputs: ``img`` [1, 3, H, W] (normalised, padded) and, with linking,
    ``prev_kernels`` [1, N, C, K, K], ``prev_valid`` [1] bool.
    Outputs: :attr:`output_names`.
    """

    output_names = ('cls_score', 'mask_preds', 'scaled_mask_preds',
                    'seg_preds', 'object_feats', 'track_embeds')
    #: the kernel axis of each output (None: not per kernel)
    kernel_axes = dict(cls_score=1, mask_preds=1, scaled_mask_preds=1,
                       seg_preds=None, object_feats=1, track_embeds=1)

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.linked = bool(model.link_previous)
        self.num_things = model.roi_head.num_proposals

    @property
    def input_names(self) -> Tuple[str, ...]:
        return ('img', 'prev_kernels', 'prev_valid') if self.linked else \
            ('img', )

    def forward(self, img: Tensor, prev_kernels: Tensor = None,
                prev_valid: Tensor = None) -> Tuple[Tensor, ...]:
        m = self.model
        out = m.forward_frame(img, prev_kernels, prev_valid)
        kernels = out['object_feats_track']
        if kernels is None:  # no linking
            kernels = out['object_feats']
        b = kernels.shape[0]
        things = kernels[:, :self.num_things].flatten(0, 1)  # [b*P, C, K, K]
        embeds = m.track_head(m.embed_kernels(things)).reshape(
            b, self.num_things, -1)
        return (out['cls_score'], out['mask_preds'],
                out['scaled_mask_preds'], out['seg_preds'],
                out['object_feats'], embeds)

    def example_inputs(self, img: Tensor,
                       prev_kernels: Tensor = None) -> Tuple[Tensor, ...]:
        """Graph inputs for ``img`` and the previous kernels (None: a first
        frame)."""
        if not self.linked:
            return (img, )
        if prev_kernels is None:
            shape = self.kernel_shape()
            return (img, img.new_zeros(shape),
                    torch.zeros(1, dtype=torch.bool, device=img.device))
        return (img, prev_kernels,
                torch.ones(1, dtype=torch.bool, device=img.device))

    def kernel_shape(self) -> List[int]:
        """[1, N, C, K, K] of ``prev_kernels``."""
        m = self.model
        head = m.roi_head.mask_head[-1]
        n = m.roi_head.num_proposals + (
            m.rpn_head.num_classes - m.rpn_head.num_thing_classes
            if m.rpn_head.cat_stuff_mask else 0)
        k = head.conv_kernel_size
        return [1, n, head.in_channels, k, k]

    def dynamic_shapes(self, height, width) -> Dict[str, object]:
        spec = {'img': {2: height, 3: width}}
        if self.linked:
            spec.update(prev_kernels=None, prev_valid=None)
        return spec


class ClipGraph(nn.Module):
    """Clip network of a ``VideoKNetVIS``: ``frames`` [F, 3, H, W] ->
    ``scores`` [N, classes] (sigmoid), ``embed`` [N, D] (clip kernels),
    ``masks`` [F, N, h, w] (logits at the assignment stride)."""

    input_names = ('frames', )
    output_names = ('scores', 'embed', 'masks')
    kernel_axes = dict(scores=0, embed=0, masks=1)

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, frames: Tensor) -> Tuple[Tensor, ...]:
        m = self.model
        rpn_out, stages = m._kernel_forward(frames)
        out = m.clip_outputs(rpn_out['x_feats'], stages[-1]['object_feats'],
                             stages[-1]['mask_preds'])
        return out['scores'], out['embed'], out['masks']

    def dynamic_shapes(self, height, width, frames) -> Dict[str, object]:
        dims = {0: frames}
        if height is not None:
            dims.update({2: height, 3: width})
        return {'frames': dims}


def build_graph(model: nn.Module) -> nn.Module:
    """The exportable network of ``model`` (eval mode)."""
    kind = graph_kind(model)
    graph = FrameGraph(model) if kind == FRAME_KIND else ClipGraph(model)
    return graph.eval()
