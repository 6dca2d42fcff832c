# ResNet-50 + FPN + K-Net's semantic FPN: the backbone and neck of every
# R50 model base (image K-Net, Video K-Net panoptic and VIS), and the
# ImageNet normalisation of their input. A model base inherits this file with
# knet_s3_kernel_heads.py and sets the data preprocessor's `type`.
# The neck is a list (mmengine builds a Sequential: neck.0 = FPN, neck.1 =
# semantic FPN), and mmengine merges dicts, not lists: its two items are
# named here so that a config changing the neck restates the list from them,
# e.g. model = dict(neck=[dict(_base_.fpn, in_channels=...),
#                         _base_.semantic_fpn])
channels = 256
fpn = dict(
    type='FPN',
    in_channels=[256, 512, 1024, 2048],
    out_channels=channels,
    start_level=0,
    add_extra_convs='on_input',
    num_outs=4)
semantic_fpn = dict(
    type='SemanticFPNWrapper',
    in_channels=channels,
    feat_channels=channels,
    out_channels=channels,
    start_level=0,
    end_level=3,
    upsample_times=2,
    positional_encoding=dict(
        type='SinePositionalEncoding', num_feats=channels // 2,
        normalize=True),
    cat_coors=False,
    cat_coors_level=3,
    fuse_by_cat=False,
    return_list=False,
    num_aux_convs=1,
    norm_cfg=dict(type='GN', num_groups=32, requires_grad=True))

model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,  # images are loaded as BGR by LoadImageFromFile
        pad_size_divisor=32,
        pad_mask=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=[fpn, semantic_fpn])
