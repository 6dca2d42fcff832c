# COCO panoptic (Detectron2 layout) through mmdet's CocoPanopticDataset, for
# K-Net image pre-training. mmdet orders the 133 classes things (80) first,
# then stuff (53): the model label space (knet/formats/labels.py). Release
# settings (ms-3x): short side in [640, 800] with long side <= 1333, flip
# p = 0.5, 2 images per GPU (the release repeated the train set x3).
# Labels are loaded by knet's LoadCocoPanopticAnnotations and PQ is computed by
# knet's KNetCocoPanopticMetric (mmdet's loader and CocoPanopticMetric need the
# git-only panopticapi package; the metric has the same arguments and keys).
dataset_type = 'CocoPanopticDataset'
data_root = 'data/coco/'
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadCocoPanopticAnnotations', backend_args=backend_args),
    dict(type='RandomResize', scale=[(1333, 640), (1333, 800)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadCocoPanopticAnnotations', backend_args=backend_args),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/panoptic_train2017.json',
        data_prefix=dict(img='train2017/', seg='panoptic_train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
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
        ann_file='annotations/panoptic_val2017.json',
        data_prefix=dict(img='val2017/', seg='panoptic_val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='KNetCocoPanopticMetric',
    ann_file=data_root + 'annotations/panoptic_val2017.json',
    seg_prefix=data_root + 'panoptic_val2017/',
    backend_args=backend_args)
test_evaluator = val_evaluator
