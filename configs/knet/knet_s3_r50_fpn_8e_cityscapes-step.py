# K-Net R50-FPN on Cityscapes-STEP (2 things: person, car; 17 stuff) - the
# image pre-training of Video K-Net for KITTI-STEP. 8 epochs, step at 7.
_base_ = [
    '../_base_/models/knet_s3_r50_fpn_panoptic.py',
    '../_base_/datasets/cityscapes_step.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
num_thing_classes = 2
num_stuff_classes = 17
num_classes = num_thing_classes + num_stuff_classes

stage_cfg = dict(
    _base_.stage_cfg,
    num_classes=num_classes,
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes)

model = dict(
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes,
    rpn_head=dict(
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes),
    roi_head=dict(
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        mask_head=[stage_cfg for _ in range(_base_.num_stages)],
        test_cfg=dict(
            merge_stuff_thing=dict(overlap_thr=0.6, instance_score_thr=0.3),
            fill_label=num_classes)))

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[7])
]

# pre-training only (as the release): no validation loop
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
