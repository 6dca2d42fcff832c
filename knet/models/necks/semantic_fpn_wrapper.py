"""Semantic FPN wrapper: fuses the FPN levels into one stride-8 map.

K-Net's kernel head does not read the FPN levels directly: this neck brings
every level to the resolution of level ``start_level + (end_level -
upsample_times)`` (stride 8 with the release settings), adds a sine
positional encoding to the coarsest level first, sums the levels and returns
``[conv_pred(sum), aux_conv(sum), ...]``: the localisation feature and the
semantic feature of the kernel head.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, normal_init
from torch import Tensor

from mmdet.registry import MODELS

__all__ = ['SemanticFPNWrapper']


@MODELS.register_module()
class SemanticFPNWrapper(BaseModule):
    """Fuse FPN levels ``start_level..end_level`` into one map.

    Level ``i`` goes through ``i`` 3x3 ConvModules (conv + norm + act); the
    first ``upsample_times - (end_level - i)`` of them are followed by a x2
    bilinear upsample. Level 0 instead gets ``end_level - upsample_times``
    stride-2 convs (when that is > 0) so that every level ends at the same
    resolution. Module names follow the original release
    (``convs_all_levels.{i}.conv{j}``, ``conv_pred``, ``aux_convs.{k}``).

    Args:
        in_channels (int): FPN channels.
        feat_channels (int): channels of the per-level convs.
        out_channels (int): channels of ``conv_pred`` / ``aux_convs``.
        start_level (int), end_level (int): FPN levels used (inclusive).
        upsample_times (int): number of x2 upsamples of the coarsest level.
        positional_encoding (dict, optional): config of a positional
            encoding (mmdet ``SinePositionalEncoding``) added to level
            ``cat_coors_level`` before its convs.
        cat_coors (bool): concatenate normalised x/y coordinates to level
            ``cat_coors_level``.
        fuse_by_cat (bool): concatenate instead of summing the levels.
        return_list (bool): wrap a single output in a list.
        with_pred (bool): apply ``conv_pred`` to the fused map.
        num_aux_convs (int): extra 1x1 ConvModules on the fused map; when
            > 0 the output is ``[pred, aux_0, ...]``.
    """

    def __init__(self,
                 in_channels: int,
                 feat_channels: int,
                 out_channels: int,
                 start_level: int = 0,
                 end_level: int = 3,
                 cat_coors: bool = False,
                 positional_encoding: Optional[dict] = None,
                 cat_coors_level: int = 3,
                 fuse_by_cat: bool = False,
                 return_list: bool = False,
                 upsample_times: int = 3,
                 with_pred: bool = True,
                 num_aux_convs: int = 0,
                 act_cfg: dict = dict(type='ReLU', inplace=True),
                 out_act_cfg: dict = dict(type='ReLU'),
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        assert 0 <= start_level <= end_level
        self.start_level = start_level
        self.end_level = end_level
        self.cat_coors = cat_coors
        self.cat_coors_level = cat_coors_level
        self.fuse_by_cat = fuse_by_cat
        self.return_list = return_list
        self.with_pred = with_pred
        self.num_aux_convs = num_aux_convs
        self.positional_encoding = (
            MODELS.build(positional_encoding)
            if positional_encoding is not None else None)

        def conv(cin: int, stride: int = 1) -> ConvModule:
            return ConvModule(
                cin, feat_channels, 3, stride=stride, padding=1,
                conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg,
                inplace=False)

        self.convs_all_levels = nn.ModuleList()
        for i in range(start_level, end_level + 1):
            level = nn.Sequential()
            chn = in_channels + 2 if (i == cat_coors_level
                                      and cat_coors) else in_channels
            if i == 0:
                if upsample_times == end_level - i:
                    level.add_module('conv0', conv(chn))
                else:
                    for j in range(end_level - upsample_times):
                        level.add_module(f'conv{j}', conv(chn, stride=2))
                self.convs_all_levels.append(level)
                continue
            num_up = upsample_times - (end_level - i)
            for j in range(i):
                level.add_module(f'conv{j}',
                                 conv(chn if j == 0 else feat_channels))
                if j < num_up:
                    level.add_module(
                        f'upsample{j}',
                        nn.Upsample(
                            scale_factor=2,
                            mode='bilinear',
                            align_corners=False))
            self.convs_all_levels.append(level)

        fused = feat_channels * len(self.convs_all_levels) \
            if fuse_by_cat else feat_channels
        if with_pred:
            self.conv_pred = ConvModule(
                fused, out_channels, 1, padding=0, conv_cfg=conv_cfg,
                act_cfg=out_act_cfg, norm_cfg=norm_cfg)
        self.aux_convs = nn.ModuleList([
            ConvModule(
                fused, out_channels, 1, padding=0, conv_cfg=conv_cfg,
                act_cfg=out_act_cfg, norm_cfg=norm_cfg)
            for _ in range(num_aux_convs)
        ])

    def init_weights(self) -> None:
        """Normal(0, 0.01) convs, as the release."""
        super().init_weights()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                normal_init(m, std=0.01)

    @staticmethod
    def generate_coord(feat: Tensor) -> Tensor:
        """[B, 2, H, W] x/y coordinates in [-1, 1]."""
        x_range = torch.linspace(-1, 1, feat.shape[-1], device=feat.device)
        y_range = torch.linspace(-1, 1, feat.shape[-2], device=feat.device)
        y, x = torch.meshgrid(y_range, x_range, indexing='ij')
        y = y.expand([feat.shape[0], 1, -1, -1])
        x = x.expand([feat.shape[0], 1, -1, -1])
        return torch.cat([x, y], 1).to(feat.dtype)

    def forward(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Fuse ``inputs[start_level..end_level]``; see class docstring."""
        mlvl_feats = []
        for idx, i in enumerate(range(self.start_level, self.end_level + 1)):
            feat = inputs[i]
            if i == self.cat_coors_level:
                if self.positional_encoding is not None:
                    ignore_mask = feat.new_zeros(
                        (feat.shape[0], feat.shape[-2], feat.shape[-1]),
                        dtype=torch.bool)
                    feat = feat + self.positional_encoding(ignore_mask).to(
                        feat.dtype)
                if self.cat_coors:
                    feat = torch.cat([feat, self.generate_coord(feat)], 1)
            mlvl_feats.append(self.convs_all_levels[idx](feat))

        if self.fuse_by_cat:
            fused = torch.cat(mlvl_feats, dim=1)
        else:
            fused = mlvl_feats[0]
            for f in mlvl_feats[1:]:
                fused = fused + f
        out = self.conv_pred(fused) if self.with_pred else fused
        if self.num_aux_convs > 0:
            return [out] + [conv(fused) for conv in self.aux_convs]
        return [out] if self.return_list else out
