# VIPSeg video panoptic segmentation, 720p version (Video K-Net release):
# short side 720 scaled by a ratio in [1, 2], flip p = 0.5, crop 736 x 736,
# identical for key and reference frame; the reference frame is drawn at
# every __getitem__ among offsets {-2, -1, +1, +2}. Evaluation at 720p.
dataset_type = 'VIPSegDataset'
data_root = 'data/VIPSeg/'
backend_args = None
crop_size = (736, 736)  # (h, w)

train_pipeline = [
    dict(type='UniformRefFrameSample', num_ref_imgs=1, frame_range=2,
         filter_key_img=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadVIPSegPanoptic', backend_args=backend_args),
            dict(type='RandomResize', scale=(100000, 720),
                 ratio_range=(1.0, 2.0), keep_ratio=True),
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
        ann_file='train.txt',
        data_prefix=dict(img_path='images', seg_map_path='panomasks'),
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
        ann_file='val.txt',
        data_prefix=dict(img_path='images', seg_map_path='panomasks'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
