# K-Net R50-FPN on Cityscapes-STEP (2 things: person, car; 17 stuff) - the
# image pre-training of Video K-Net for KITTI-STEP. 8 epochs, step at 7.
_base_ = [
    '../_base_/models/knet_s3_r50_fpn_panoptic.py',
    '../_base_/datasets/cityscapes_step.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
num_proposals = 100
num_thing_classes = 2
num_stuff_classes = 17
num_classes = num_thing_classes + num_stuff_classes

stage_cfg = dict(
    type='KernelUpdateHead',
    num_classes=num_classes,
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes,
    num_ffn_fcs=2,
    num_heads=8,
    num_cls_fcs=1,
    num_mask_fcs=1,
    feedforward_channels=2048,
    in_channels=256,
    out_channels=256,
    dropout=0.0,
    mask_thr=0.5,
    conv_kernel_size=1,
    mask_upsample_stride=2,
    ffn_act_cfg=dict(type='ReLU', inplace=True),
    with_ffn=True,
    feat_transform_cfg=dict(conv_cfg=dict(type='Conv2d'), act_cfg=None),
    kernel_updator_cfg=dict(
        type='KernelUpdator',
        in_channels=256,
        feat_channels=256,
        out_channels=256,
        input_feat_shape=3,
        act_cfg=dict(type='ReLU', inplace=True),
        norm_cfg=dict(type='LN')),
    loss_rank=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.1),
    loss_mask=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
    loss_dice=dict(type='DiceLoss', loss_weight=4.0),
    loss_cls=dict(
        type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
        loss_weight=2.0))

model = dict(
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes,
    rpn_head=dict(
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes),
    roi_head=dict(
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        mask_head=[stage_cfg, stage_cfg, stage_cfg],
        test_cfg=dict(
            max_per_img=num_proposals,
            merge_stuff_thing=dict(overlap_thr=0.6, instance_score_thr=0.3),
            fill_label=num_classes)))

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[7],
        gamma=0.1)
]

# pre-training only (as the release): no validation loop
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
