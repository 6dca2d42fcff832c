# Video K-Net R50 on Cityscapes-VPS (the release has no such config): the
# KITTI-STEP recipe with Cityscapes-VPS classes (8 things: trainIds 11..18,
# then 11 stuff: trainIds 0..10) and reference offsets -1/+1 (dataset config).
_base_ = [
    '../_base_/models/video_knet_s3_r50_fpn.py',
    '../_base_/datasets/cityscapes_vps.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/video_runtime.py',
]

# Initialise from image K-Net R50 trained on Cityscapes-STEP (train
# configs/knet/knet_s3_r50_fpn_8e_cityscapes-step.py, or the release's
# checkpoint, converted when loaded). Its class-dependent layers (2 + 17
# classes there, 8 + 11 here: conv_seg, fc_cls) have the same size and are
# loaded as they are (rows of other classes); the video-only modules keep
# their initialisation (a logged partial load).
load_from = 'checkpoints/knet_s3_r50_fpn_8e_cityscapes-step.pth'

num_thing_classes = 8
num_stuff_classes = 11
num_classes = num_thing_classes + num_stuff_classes
model = dict(
    num_thing_classes=num_thing_classes,
    num_stuff_classes=num_stuff_classes,
    rpn_head=dict(
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        num_classes=num_classes),
    roi_head=dict(
        num_thing_classes=num_thing_classes,
        num_stuff_classes=num_stuff_classes,
        mask_head=dict(
            num_classes=num_classes,
            num_thing_classes=num_thing_classes,
            num_stuff_classes=num_stuff_classes),
        # Cityscapes: thing score threshold 0.3 (release K-Net city config)
        test_cfg=dict(merge_stuff_thing=dict(instance_score_thr=0.3))))

# schedule_1x.py's 12 epochs, the step decay at epochs 9 and 11
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], milestones=[9, 11])
]
find_unused_parameters = True

# VPQ over k = 0, 5, 10, 15 (windows of 1-4 annotated frames)
# The metric reads each frame's segments_info from the panoptic GT JSON.
val_evaluator = dict(
    type='VPSMetric',
    dataset_type='cityscapes-vps',
    ann_file='data/cityscapes_vps/panoptic_gt_val_city_vps.json')
test_evaluator = val_evaluator
