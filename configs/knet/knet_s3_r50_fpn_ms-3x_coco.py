# K-Net R50-FPN, COCO instance segmentation, multi-scale (the dataset base's
# pipeline) 3x.
_base_ = [
    '../_base_/models/knet_s3_r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_3x.py', '../_base_/default_runtime.py'
]
