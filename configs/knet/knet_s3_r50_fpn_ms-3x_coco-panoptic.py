# K-Net R50-FPN, COCO panoptic, multi-scale training (short side 640-800,
# the dataset base's pipeline), 3x schedule (36 epochs, steps 27/33).
_base_ = [
    '../_base_/models/knet_s3_r50_fpn_panoptic.py',
    '../_base_/datasets/coco_panoptic.py',
    '../_base_/schedules/schedule_3x.py', '../_base_/default_runtime.py'
]
# PQ: KNetCocoPanopticMetric of the dataset base (panopticapi semantics).
