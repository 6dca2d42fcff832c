# Video K-Net (panoptic), ResNet-50 + FPN, 3 kernel-update stages, KITTI-STEP
# label space (2 thing + 17 stuff classes, things first). The values are the
# release's `video_knet_s3_r50_rpn_1x_kitti_step_sigmoid_stride2_mask_embed_
# link_ffn_joint_train.py` (model type VideoKNetQuansiEmbedFCJointTrain).
# Backbone and neck: r50_fpn.py (with SyncBN).
_base_ = ['./knet_s3_kernel_heads.py', './r50_fpn.py']
num_thing_classes = 2
num_stuff_classes = 17
num_classes = num_thing_classes + num_stuff_classes
channels = _base_.channels

model = dict(
    type='VideoKNet',
    # mmdet's TrackDataPreprocessor + gt_sem_seg padding with 255 (mmdet
    # 3.3 leaves the semantic maps of a batch at their own sizes)
    data_preprocessor=dict(
        type='VideoDataPreprocessor',
        pad_seg=True,
        seg_pad_value=255),
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes,
    mask_assign_stride=2,  # GT at stride 2 in the video configs
    ignore_index=255,
    backbone=dict(
        # multi-GPU training as the release; the runner turns it into BN
        # when the run is not distributed or has no GPU
        # (knet/engine/syncbn.py)
        norm_cfg=dict(type='SyncBN', requires_grad=True)),
    rpn_head=dict(
        type='ConvKernelHead',
        num_proposals=_base_.num_proposals,
        in_channels=channels,
        out_channels=channels,
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        num_classes=num_classes,
        cat_stuff_mask=True,
        conv_kernel_size=_base_.conv_kernel_size,
        feat_downsample_stride=4,  # stride-8 masks -> stride-2 targets
        num_loc_convs=1,
        num_seg_convs=1,
        conv_normal_init=True,
        use_binary=True,
        proposal_feats_with_obj=True,
        xavier_init_kernel=False,
        kernel_init_std=1,
        norm_cfg=dict(type='GN', num_groups=32),
        loss_rank=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.1),
        # softmax CE with ignore in the video configs (focal in K-Net's)
        loss_seg=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
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
        assigner=_base_.assigner,
        # kernel linking in the last stage
        link_stages=[_base_.num_stages - 1],
        # one config shared by the stages (a dict, so that derived configs
        # can override single fields)
        mask_head=dict(
            _base_.stage_cfg,
            num_classes=num_classes,
            num_thing_classes=num_thing_classes,
            num_stuff_classes=num_stuff_classes,
            mask_upsample_stride=4,
            # kernel linking (KL): attention_previous + link_ffn
            previous_type='ffn',
            previous_link=None,  # 'update_dynamic_cov' = kernel fusion
            link_num_heads=8),
        test_cfg=dict(
            max_per_img=_base_.num_proposals,
            mask_thr=0.5,
            merge_joint=True,
            merge_stuff_thing=dict(
                overlap_thr=0.6,
                iou_thr=0.5,
                stuff_max_area=4096,
                instance_score_thr=0.25),
            # pixels no segment claims get their best kept class; the
            # release wrote dataset id 0 there: uncovered='fixed' +
            # fill_label=<model label of id 0> (docs/release_differences.md)
            uncovered='best_kept',
            merge_resolution='image')),
    # kernel association embedding: embed_fcs + fc_embed, then this head
    embed_channels=channels,
    track_head=dict(
        type='KernelTrackHead',
        num_fcs=2,
        in_channels=channels,
        fc_out_channels=channels,
        embed_channels=channels,
        loss_track=dict(type='MultiPosCrossEntropyLoss', loss_weight=0.25),
        loss_track_aux=dict(
            type='TrackL2Loss',
            neg_pos_ub=3,
            pos_margin=0,
            neg_margin=0.1,
            hard_mining=True,
            loss_weight=1.0)),
    tracker=dict(
        type='KernelTracker',
        init_score_thr=0.35,
        obj_score_thr=0.3,
        match_score_thr=0.5,
        memo_tracklet_frames=5,
        memo_backdrop_frames=1,
        memo_momentum=0.8,
        nms_conf_thr=0.5,
        nms_backdrop_iou_thr=0.3,
        nms_class_iou_thr=0.7,
        with_cats=True,
        match_metric='bisoftmax'),
    link_previous=True,
    semantic_filter=True,
    # fixes of release defects (False / 'position' = the release; see
    # docs/release_differences.md)
    semantic_filter_align=True,
    track_id_writeback='index')
