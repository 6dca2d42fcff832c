# KITTI-STEP video panoptic segmentation (Video K-Net release settings).
# Frames are ~375 x 1242; the release resizes the (384, 1248) scale by a ratio
# in [0.5, 2.0], flips with p = 0.5 and crops 384 x 1248 (the smallest
# 32-divisible size holding a frame), identically for key and reference frame.
# The reference frame is drawn at every __getitem__ among offsets
# {-2, -1, +1, +2} (clipped at the sequence ends).
# The release repeats the train set (RepeatDataset x4 in the image recipe, x2
# in the video one); TrackImgSampler cannot wrap RepeatDataset, so scale the
# number of epochs in the schedule instead.
dataset_type = 'KittiStepDataset'
data_root = 'data/kitti-step/'
backend_args = None
crop_size = (384, 1248)  # (h, w)

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
                 ratio_range=(0.5, 2.0), keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
            dict(type='RandomCrop', crop_size=(crop_size[1], crop_size[0]),
                 crop_type='absolute', recompute_bbox=True,
                 allow_negative_crop=True),
            dict(type='FilterEmptyInstances', min_area=1),
            dict(type='Pad', size_divisor=32, pad_val=dict(img=0, seg=255)),
        ]),
    dict(type='PackVideoPanopticInputs'),
]

# Test: the full frame (the no-op resize / flip only record scale_factor
# and flip in the metainfo, the image is unchanged).
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
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='video_sequence/train'),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='video_sequence/val'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
# The official test split (no labels; predictions for the server):
kitti_step_test_split = dict(
    type=dataset_type,
    data_root=data_root,
    data_prefix=dict(img_path='video_sequence/test'),
    test_mode=True,
    pipeline=test_pipeline,
    backend_args=backend_args)
