# The kernel heads shared by every K-Net / Video K-Net model base (release
# values): 3 kernel-update stages of 100 kernels (1x1 conv kernels),
# Hungarian matching of the thing kernels and the KernelUpdateHead of one
# stage. A model base inherits this file and completes `stage_cfg` with its
# class counts, e.g. dict(_base_.stage_cfg, num_classes=..., ...); a model
# base reads `_base_.num_stages` etc. where it uses them.
num_stages = 3
num_proposals = 100
conv_kernel_size = 1

# Hungarian matching of the thing kernels: focal 2 + mask 1 + dice 4.
assigner = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='KNetFocalLossCost', weight=2.0),
        dict(type='KNetMaskCost', weight=1.0, pred_act=True),
        dict(type='KNetDiceCost', weight=4.0, pred_act=True)
    ])

# one kernel-update stage (num_classes / num_thing_classes /
# num_stuff_classes: set by the model base)
stage_cfg = dict(
    type='KernelUpdateHead',
    num_ffn_fcs=2,
    num_heads=8,
    num_cls_fcs=1,
    num_mask_fcs=1,
    feedforward_channels=2048,
    in_channels=256,
    out_channels=256,
    dropout=0.0,
    conv_kernel_size=conv_kernel_size,
    mask_upsample_stride=2,
    ffn_act_cfg=dict(type='ReLU', inplace=True),
    with_ffn=True,
    feat_transform_cfg=dict(conv_cfg=dict(type='Conv2d'), act_cfg=None),
    kernel_updator_cfg=dict(
        type='KernelUpdator',
        in_channels=256,
        feat_channels=256,
        out_channels=256,
        act_cfg=dict(type='ReLU', inplace=True),
        norm_cfg=dict(type='LN')),
    loss_mask=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
    loss_dice=dict(type='DiceLoss', loss_weight=4.0),
    loss_cls=dict(
        type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
        loss_weight=2.0))
