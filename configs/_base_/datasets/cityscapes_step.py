# Cityscapes-STEP: Cityscapes fine in the KITTI-STEP label space (things
# person, car; 17 stuff), for pre-training the K-Net that initialises Video
# K-Net on KITTI-STEP. Release settings: (1024, 2048) scaled by a ratio in
# [0.5, 2.0], flip p = 0.5, crop 1024 x 2048, pad to 32 (seg pad 255),
# 4 images per GPU (the release repeated the train set x8).
dataset_type = 'CityscapesSTEPDataset'
data_root = 'data/cityscapes/'
backend_args = None
crop_size = (1024, 2048)  # (h, w)

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadCityscapesPanoptic', backend_args=backend_args),
    dict(type='RandomResize', scale=(crop_size[1], crop_size[0]),
         ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=(crop_size[1], crop_size[0]),
         crop_type='absolute', recompute_bbox=True, allow_negative_crop=True),
    dict(type='FilterEmptyInstances', min_area=1),
    dict(type='Pad', size_divisor=32, pad_val=dict(img=0, seg=255)),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadCityscapesPanoptic', backend_args=backend_args),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'seg_map_path', 'inst_map_path')),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img='leftImg8bit/train', seg='gtFine/train'),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img='leftImg8bit/val', seg='gtFine/val'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
