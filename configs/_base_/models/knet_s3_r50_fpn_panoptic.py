# K-Net (3 stages, R50-FPN) for COCO panoptic: 100 thing kernels + 53 stuff
# kernels (the stuff rows of the semantic classifier), as the release.
num_stages = 3
num_proposals = 100
conv_kernel_size = 1
num_thing_classes = 80
num_stuff_classes = 53
num_classes = num_thing_classes + num_stuff_classes

assigner = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='KNetFocalLossCost', weight=2.0),
        dict(type='KNetMaskCost', weight=1.0, pred_act=True),
        dict(type='KNetDiceCost', weight=4.0, pred_act=True)
    ])

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
    type='KNet',
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes,
    mask_assign_stride=4,
    ignore_index=255,
    panoptic=True,
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
        pad_mask=True,
        mask_pad_value=0,
        pad_seg=True,
        seg_pad_value=255),
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
    # neck list -> mmengine Sequential: neck.0 = FPN, neck.1 = semantic FPN
    neck=[
        dict(
            type='FPN',
            in_channels=[256, 512, 1024, 2048],
            out_channels=256,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4),
        dict(
            type='SemanticFPNWrapper',
            in_channels=256,
            feat_channels=256,
            out_channels=256,
            start_level=0,
            end_level=3,
            upsample_times=2,
            positional_encoding=dict(
                type='SinePositionalEncoding', num_feats=128, normalize=True),
            cat_coors=False,
            cat_coors_level=3,
            fuse_by_cat=False,
            return_list=False,
            num_aux_convs=1,
            norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    ],
    rpn_head=dict(
        type='ConvKernelHead',
        num_proposals=num_proposals,
        in_channels=256,
        out_channels=256,
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        conv_kernel_size=conv_kernel_size,
        feat_downsample_stride=2,
        num_loc_convs=1,
        num_seg_convs=1,
        conv_normal_init=True,
        use_binary=True,
        proposal_feats_with_obj=True,
        kernel_init_std=1,
        cat_stuff_mask=True,
        loss_rank=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.1),
        loss_seg=dict(
            type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
            loss_weight=1.0),
        loss_mask=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_dice=dict(type='DiceLoss', loss_weight=4.0),
        assigner=assigner),
    roi_head=dict(
        type='KernelIterHead',
        num_stages=num_stages,
        stage_loss_weights=[1] * num_stages,
        num_proposals=num_proposals,
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        do_panoptic=True,
        mask_head=[stage_cfg for _ in range(num_stages)],
        assigner=assigner,
        test_cfg=dict(
            max_per_img=num_proposals,
            mask_thr=0.5,
            merge_joint=True,
            merge_stuff_thing=dict(
                overlap_thr=0.6,
                iou_thr=0.5,
                stuff_max_area=4096,
                instance_score_thr=0.3),
            # release: uncovered pixels are VOID (fill_label=num_classes with
            # uncovered='fixed'); we give them the best kept class
            uncovered='best_kept',
            fill_label=num_classes,
            merge_resolution='image',
            # the K-Net image release: one thing candidate per kernel (its
            # best class); Video K-Net: 'topk' (kernel, class) pairs
            thing_candidates='per_kernel')))
