"""Deformable FPN: mmdet's multi-scale deformable attention pixel decoder as
a drop-in replacement of the FPN in front of ``SemanticFPNWrapper``.

The original Video K-Net release (``knet/det/msdeformattn_decoder.py``,
``configs/det/_base_/models/knet_s3_r50_deformable_fpn.py`` and the
``*_deformable_fpn`` COCO / YouTube-VIS configs) uses a Mask2Former-style
``MSDeformAttnPixelDecoder`` as the neck (6 encoder layers over the stride
8/16/32 maps, 8 heads, 4 points, FFN 1024, GN) and feeds its outputs, like
FPN levels, to the unchanged ``SemanticFPNWrapper`` (``upsample_times=2``)
of the kernel head. This module keeps that layout: it returns the stride
4/8/16/32 maps ``(mask_feature, s8, s16, s32)`` so that a config swaps only
``neck[0]`` (``neck.1`` stays the semantic FPN with its [loc, sem] stride-8
contract).

The deformable attention inside is mmcv's ``MultiScaleDeformableAttention``,
which already selects the compiled CUDA op on CUDA tensors and the pure
PyTorch function (``F.grid_sample``) elsewhere, the same choice as
:func:`knet.models.layers.msda_ops.multi_scale_deformable_attention`.
"""
from typing import List, Sequence, Tuple

from mmdet.models.layers import MSDeformAttnPixelDecoder
from mmengine.config import ConfigDict
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from torch import Tensor

__all__ = ['DeformableFPN']


def _release_encoder(embed_dims: int) -> dict:
    """Encoder of the release: 6 layers, 3 levels, 8 heads, 4 points."""
    return dict(
        num_layers=6,
        layer_cfg=dict(
            self_attn_cfg=dict(
                embed_dims=embed_dims,
                num_heads=8,
                num_levels=3,
                num_points=4,
                im2col_step=64,
                dropout=0.0,
                batch_first=True,
                norm_cfg=None,
                init_cfg=None),
            ffn_cfg=dict(
                embed_dims=embed_dims,
                feedforward_channels=1024,
                num_fcs=2,
                ffn_drop=0.0,
                act_cfg=dict(type='ReLU', inplace=True))),
        init_cfg=None)


@MODELS.register_module()
class DeformableFPN(MSDeformAttnPixelDecoder):
    """Multi-scale deformable attention pixel decoder returning FPN levels.

    The coarsest ``num_levels`` inputs (``encoder.layer_cfg.self_attn_cfg``;
    all levels or all but the finest) go through the deformable encoder, the
    finest one otherwise through a top-down FPN step (lateral 1x1 + output
    3x3 conv); the finest map gets the extra 1x1 ``mask_feature`` conv.
    Module names are mmdet's (``input_convs``, ``encoder``,
    ``postional_encoding``, ``level_encoding``, ``lateral_convs``,
    ``output_convs``, ``mask_feature``) and match the
    release's except inside ``encoder`` (mmcv 1.x layer names there).

    Args:
        in_channels: backbone channels per level (fine to coarse).
        strides: backbone strides per level.
        feat_channels: decoder width (the encoder's ``embed_dims``).
        out_channels: channels of ``mask_feature``; must equal
            ``feat_channels`` for the levels to share one width.
        encoder: ``Mask2FormerTransformerEncoder`` config; ``None`` gives
            the release's encoder.
        positional_encoding: ``SinePositionalEncoding`` kwargs; ``None``
            gives ``num_feats=feat_channels // 2, normalize=True``.
        norm_cfg, act_cfg, init_cfg: as mmdet's
            ``MSDeformAttnPixelDecoder``.

    Returns (forward): a tuple of ``len(in_channels)`` maps from fine to
    coarse, ``(mask_feature, level_1, ..., level_last)``, all with
    ``feat_channels`` channels and the input strides.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 strides: Sequence[int] = (4, 8, 16, 32),
                 feat_channels: int = 256,
                 out_channels: int = 256,
                 norm_cfg: ConfigType = dict(type='GN', num_groups=32),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 encoder: ConfigType = None,
                 positional_encoding: ConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if out_channels != feat_channels:
            raise ValueError('DeformableFPN returns FPN levels of one width: '
                             f'out_channels ({out_channels}) must equal '
                             f'feat_channels ({feat_channels})')
        if encoder is None:
            encoder = _release_encoder(feat_channels)
        if positional_encoding is None:  # sine encoding of feat_channels
            positional_encoding = dict(
                num_feats=feat_channels // 2, normalize=True)
        encoder = ConfigDict(encoder)  # the parent reads attributes
        num_levels = encoder.layer_cfg.self_attn_cfg.num_levels
        # mmdet's decoder indexes its lateral convs by level, which is only
        # right with at most one level outside the encoder
        if num_levels not in (len(in_channels) - 1, len(in_channels)):
            raise ValueError(
                f'the encoder must attend to {len(in_channels) - 1} or '
                f'{len(in_channels)} of the {len(in_channels)} levels, got '
                f'num_levels={num_levels}')
        super().__init__(
            in_channels=list(in_channels),
            strides=list(strides),
            feat_channels=feat_channels,
            out_channels=out_channels,
            num_outs=len(in_channels) - 1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            encoder=encoder,
            positional_encoding=positional_encoding,
            init_cfg=init_cfg)

    def forward(self, feats: List[Tensor]) -> Tuple[Tensor, ...]:
        """Backbone maps (fine to coarse) -> decoder maps (fine to coarse)."""
        mask_feature, coarse_to_fine = super().forward(feats)
        return (mask_feature, *coarse_to_fine[::-1])
