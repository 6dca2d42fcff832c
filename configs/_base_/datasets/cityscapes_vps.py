# Cityscapes-VPS (VPSNet layout), Video K-Net release settings: random
# resize of the long/short edge within (1024, 512) .. (4096, 2048), flip
# p = 0.5, crop 1024 x 1024, 2 samples per GPU, all identical for key and
# reference frame. Reference frame: offsets {-1, +1} among the annotated
# frames (every 5th frame), drawn at every __getitem__. The release repeats
# the train set x8 (scale the schedule's epochs: TrackImgSampler cannot wrap
# RepeatDataset).
dataset_type = 'CityscapesVPSDataset'
data_root = 'data/cityscapes_vps/'
backend_args = None

train_pipeline = [
    dict(type='UniformRefFrameSample', num_ref_imgs=1, frame_range=1,
         filter_key_img=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadCityscapesVPSPanoptic', backend_args=backend_args),
            dict(type='RandomResize', scale=[(1024, 512), (4096, 2048)],
                 keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
            dict(type='RandomCrop', crop_size=(1024, 1024),
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
            dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
            dict(type='RandomFlip', prob=0.0),
        ]),
    dict(type='PackVideoPanopticInputs'),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='panoptic_im_train_city_vps.json',
        ins_ann_file='instances_train_city_vps_rle.json',
        data_prefix=dict(img_path='train/img', seg_map_path='train/labelmap'),
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
        ann_file='panoptic_gt_val_city_vps.json',
        data_prefix=dict(img_path='val/img',
                         seg_map_path='val/panoptic_video'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
# All 30 frames of every val video (no labels), for tracking through the
# unannotated frames:
cityscapes_vps_all_frames = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='im_all_info_val_city_vps.json',
    data_prefix=dict(img_path='val/img_all'),
    test_mode=True,
    pipeline=test_pipeline,
    backend_args=backend_args)
