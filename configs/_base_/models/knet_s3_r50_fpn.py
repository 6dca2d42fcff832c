# K-Net (3 stages, R50-FPN) for COCO instance segmentation: 100 kernels,
# 80 classes, no stuff kernels; top-100 (kernel, class) instances at test.
# Backbone and neck: r50_fpn.py.
_base_ = ['./knet_s3_kernel_heads.py', './r50_fpn.py']
num_thing_classes = 80
num_stuff_classes = 0
num_classes = num_thing_classes + num_stuff_classes

stage_cfg = dict(
    _base_.stage_cfg,
    num_classes=num_classes,
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes)

model = dict(
    type='KNet',
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes,
    mask_assign_stride=4,
    ignore_index=255,
    panoptic=False,
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mask_pad_value=0,
        pad_seg=False,
        seg_pad_value=255),
    rpn_head=dict(
        type='ConvKernelHead',
        num_proposals=_base_.num_proposals,
        in_channels=_base_.channels,
        out_channels=_base_.channels,
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        conv_kernel_size=_base_.conv_kernel_size,
        feat_downsample_stride=2,
        num_loc_convs=1,
        num_seg_convs=1,
        conv_normal_init=True,
        use_binary=True,
        proposal_feats_with_obj=True,
        kernel_init_std=1,
        cat_stuff_mask=False,
        loss_rank=None,
        loss_seg=dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
            loss_weight=1.0),
        loss_mask=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_dice=dict(type='DiceLoss', loss_weight=4.0),
        assigner=_base_.assigner),
    roi_head=dict(
        type='KernelIterHead',
        num_stages=_base_.num_stages,
        stage_loss_weights=[1] * _base_.num_stages,
        num_proposals=_base_.num_proposals,
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        mask_head=[stage_cfg for _ in range(_base_.num_stages)],
        assigner=_base_.assigner,
        test_cfg=dict(max_per_img=_base_.num_proposals, mask_thr=0.5)))
