# Cityscapes panoptic (8 things, 11 stuff) for K-Net image pre-training.
# Release settings: short side in [800, 1024] (long side <= 2048), flip
# p = 0.5, pad to 32 (seg pad 255), 2 images per GPU (the release repeated
# the train set x8). Same data layout and loader as cityscapes_step.py.
_base_ = './cityscapes_step.py'

dataset_type = 'CityscapesPanopticDataset'
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadCityscapesPanoptic', backend_args={{_base_.backend_args}}),
    dict(type='RandomResize', scale=[(2048, 800), (2048, 1024)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size_divisor=32, pad_val=dict(img=0, seg=255)),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadCityscapesPanoptic', backend_args={{_base_.backend_args}}),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'seg_map_path', 'inst_map_path')),
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(type=dataset_type, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, pipeline=test_pipeline))
test_dataloader = val_dataloader
