"""The tiny KITTI-STEP K-Net of the parity case (README section 1) as a
KNet config, and a builder that loads converted original weights strictly."""
import copy
from typing import Dict

import torch

from knet.utils.setup_env import register_all_modules

T, S = 2, 17
P = 20
C = 64

_STAGE = dict(
    type='KernelUpdateHead',
    num_classes=T + S,
    num_thing_classes=T,
    num_stuff_classes=S,
    num_ffn_fcs=2,
    num_heads=4,
    num_cls_fcs=1,
    num_mask_fcs=1,
    feedforward_channels=256,
    in_channels=C,
    out_channels=C,
    dropout=0.0,
    conv_kernel_size=1,
    mask_upsample_stride=4,
    ffn_act_cfg=dict(type='ReLU', inplace=True),
    with_ffn=True,
    previous_type='ffn',
    link_num_heads=8,
    feat_transform_cfg=dict(conv_cfg=dict(type='Conv2d'), act_cfg=None),
    kernel_updator_cfg=dict(
        type='KernelUpdator',
        in_channels=C,
        feat_channels=C,
        out_channels=C,
        act_cfg=dict(type='ReLU', inplace=True),
        norm_cfg=dict(type='LN')),
    loss_mask=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
    loss_dice=dict(type='DiceLoss', loss_weight=4.0),
    loss_cls=dict(
        type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
        loss_weight=2.0))

ASSIGNER = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='KNetFocalLossCost', weight=2.0),
        dict(type='KNetMaskCost', weight=1.0, pred_act=True),
        dict(type='KNetDiceCost', weight=4.0, pred_act=True)
    ])

TINY_KNET = dict(
    type='KNet',
    num_thing_classes=T,
    num_stuff_classes=S,
    mask_assign_stride=2,
    backbone=dict(
        type='ResNet',
        depth=18,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch'),
    neck=[
        dict(
            type='FPN',
            in_channels=[16, 32, 64, 128],
            out_channels=C,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4),
        dict(
            type='SemanticFPNWrapper',
            in_channels=C,
            feat_channels=C,
            out_channels=C,
            start_level=0,
            end_level=3,
            upsample_times=2,
            positional_encoding=dict(
                type='SinePositionalEncoding', num_feats=C // 2,
                normalize=True),
            cat_coors=False,
            cat_coors_level=3,
            fuse_by_cat=False,
            return_list=False,
            num_aux_convs=1,
            norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    ],
    rpn_head=dict(
        type='ConvKernelHead',
        num_proposals=P,
        in_channels=C,
        out_channels=C,
        num_thing_classes=T,
        num_stuff_classes=S,
        feat_downsample_stride=4,
        cat_stuff_mask=True,
        loss_seg=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_rank=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.1),
        assigner=ASSIGNER),
    roi_head=dict(
        type='KernelIterHead',
        num_stages=3,
        stage_loss_weights=[1, 1, 1],
        num_proposals=P,
        num_thing_classes=T,
        num_stuff_classes=S,
        mask_head=[copy.deepcopy(_STAGE) for _ in range(3)],
        assigner=ASSIGNER,
        test_cfg=dict(
            max_per_img=P,
            merge_joint=True,
            merge_stuff_thing=dict(overlap_thr=0.6, instance_score_thr=0.25),
            # original behaviour: uncovered pixels -> trainId 0 (label 2)
            uncovered='fixed',
            fill_label=2)))

VIDEO_ONLY_PREFIXES = ('track_head.', 'embed_fcs.', 'fc_embed.')


def build_tiny_knet(original_state_dict: Dict[str, torch.Tensor]):
    """Build the tiny KNet and load the converted weights with strict=True
    (the association-embedding modules of Video K-Net are left out)."""
    from mmdet.registry import MODELS
    from tools.model_converters.knet_to_mmdet3 import convert_state_dict
    register_all_modules(init_default_scope=False)
    model = MODELS.build(copy.deepcopy(TINY_KNET))
    new_sd, unmapped = convert_state_dict(original_state_dict)
    assert not unmapped, unmapped
    new_sd = {
        k: v
        for k, v in new_sd.items() if not k.startswith(VIDEO_ONLY_PREFIXES)
    }
    model.load_state_dict(new_sd, strict=True)
    return model
