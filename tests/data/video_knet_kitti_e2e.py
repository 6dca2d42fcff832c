# Video K-Net end-to-end config for CPU tests on synthetic KITTI-STEP data
# (tests/tools/test_vps_e2e.py, tests/tools/test_dist_vps.py,
# tests/models/test_video_knet_tracking_slow.py): the tiny model of
# video_knet_kitti_tiny.py on 64 x 128 frames, the real KittiStepDataset and
# pipelines (reference-frame sampling, broadcast augmentation, panoptic
# loading) with small sizes, an iteration-based short schedule, plain BN, no
# worker processes, and KittiSTEPMetric (STQ, AQ, SQ, VPQ) in the test loop
# (no validation during training: tools/test.py evaluates).
# Point it at a prepared root with
#   --cfg-options train_dataloader.dataset.data_root=ROOT/ \
#       test_dataloader.dataset.data_root=ROOT/
_base_ = './video_knet_kitti_tiny.py'

data_root = 'data/kitti-step/'
crop_size = (64, 128)  # (h, w)
backend_args = None

# this code base's fixes of release defects are on (the tiny config turns
# them off for the parity record)
model = dict(
    # train every stage (no ImageNet weights to keep frozen or in eval mode)
    backbone=dict(frozen_stages=-1, norm_eval=False),
    roi_head=dict(test_cfg=dict(uncovered='best_kept', fill_label=0)),
    semantic_filter_align=True,
    track_id_writeback='index')

train_pipeline = [
    dict(type='UniformRefFrameSample', num_ref_imgs=1, frame_range=2,
         filter_key_img=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadKittiStepPanoptic', backend_args=backend_args),
            dict(type='RandomResize', scale=(crop_size[1], crop_size[0]),
                 ratio_range=(0.8, 1.25), keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
            dict(type='RandomCrop', crop_size=(crop_size[1], crop_size[0]),
                 crop_type='absolute', recompute_bbox=True,
                 allow_negative_crop=True),
            dict(type='FilterEmptyInstances', min_area=1),
            dict(type='Pad', size_divisor=32, pad_val=dict(img=0, seg=255)),
        ]),
    dict(type='PackVideoPanopticInputs'),
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='Resize', scale_factor=1.0, keep_ratio=True),
            dict(type='RandomFlip', prob=0.0),
        ]),
    dict(type='PackVideoPanopticInputs'),
]

train_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type='KittiStepDataset',
        data_root=data_root,
        data_prefix=dict(img_path='video_sequence/train'),
        pipeline=train_pipeline,
        backend_args=backend_args))
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type='KittiStepDataset',
        data_root=data_root,
        data_prefix=dict(img_path='video_sequence/val'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_evaluator = dict(type='KittiSTEPMetric')
# no validation during these short runs: tools/test.py evaluates afterwards
val_dataloader = None
val_evaluator = None
val_cfg = None

max_iters = 4
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop',
                 max_iters=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=max_iters)
]
# from scratch on a few frames: 10x the release's LR, backbone included
optim_wrapper = dict(
    optimizer=dict(lr=1e-3),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(type='CheckpointHook', interval=max_iters,
                    by_epoch=False, max_keep_ckpts=1))
log_processor = dict(type='LogProcessor', window_size=1, by_epoch=False)
env_cfg = dict(mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='gloo'))
