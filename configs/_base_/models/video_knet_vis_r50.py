# Video K-Net for video instance segmentation, ResNet-50 + FPN (release
# configs/video_knet_vis/_base_/models/knet_track_r50.py, model KNetTrack):
# the image K-Net (100 kernels, 3 stages, 40 classes) on every frame, then
# the clip head `tracker` (3 stages: 2 clip stages that classify the
# frame-averaged kernels, 1 per-frame stage for the masks), tube-level
# Hungarian matching (focal 2 / dice 4 / mask 1). Test: top 10 (kernel,
# class) pairs per video; long videos in windows of `window_size` frames.
# Backbone and neck: r50_fpn.py.
_base_ = ['./knet_s3_kernel_heads.py', './r50_fpn.py']
num_classes = 40
channels = _base_.channels

stage_cfg = dict(
    _base_.stage_cfg,
    num_classes=num_classes,
    num_thing_classes=num_classes,
    num_stuff_classes=0)

model = dict(
    type='VideoKNetVIS',
    data_preprocessor=dict(type='TrackDataPreprocessor'),
    num_thing_classes=num_classes,
    num_stuff_classes=0,
    mask_assign_stride=4,  # the release's VIS default
    ignore_index=255,
    rpn_head=dict(
        type='ConvKernelHead',
        num_proposals=_base_.num_proposals,
        in_channels=channels,
        out_channels=channels,
        num_thing_classes=num_classes,
        num_stuff_classes=0,
        num_classes=num_classes,
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
        num_thing_classes=num_classes,
        num_stuff_classes=0,
        mask_head=[stage_cfg for _ in range(_base_.num_stages)],
        assigner=_base_.assigner,
        test_cfg=dict(max_per_img=10, mask_thr=0.5)),
    tracker=dict(
        type='ClipKernelHead',
        num_stages=3,
        num_clip_stages=2,
        stage_loss_weights=(1., 1., 1.),
        num_proposals=_base_.num_proposals,
        num_classes=num_classes,
        mask_head=dict(stage_cfg, type='ClipKernelUpdateHead'),
        fusion='mean',
        assigner=_base_.assigner,
        test_cfg=dict(max_per_video=10, mask_thr=0.5)),
    # inference windows: 0 = the whole video as one clip (the release)
    window_size=36,
    window_overlap=6,
    assoc_kernel_weight=1.0,
    assoc_mask_weight=1.0,
    num_candidates=30)
