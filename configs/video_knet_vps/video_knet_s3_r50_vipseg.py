# Video K-Net R50 on VIPSeg (720p): release
# video_knet_s3_r50_rpn_vipseg_mask_embed_link_ffn_joint_train.py
# (12 epochs, LR steps at 9 and 11). 58 thing + 66 stuff classes.
_base_ = [
    '../_base_/models/video_knet_s3_r50_fpn.py',
    '../_base_/datasets/vipseg_vps.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/video_runtime.py',
]

# Initialise from image K-Net R50 trained on COCO panoptic (release step 1):
# train configs/knet/knet_s3_r50_fpn_ms-3x_coco-panoptic.py and copy its last
# checkpoint here, or the release's checkpoint (converted when loaded). The
# class-dependent layers (conv_seg, fc_cls) differ in size and, with the
# video-only modules, keep their initialisation (a logged partial load).
load_from = 'checkpoints/knet_s3_r50_fpn_ms-3x_coco-panoptic.pth'

num_thing_classes = 58
num_stuff_classes = 66
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
            num_stuff_classes=num_stuff_classes)))

# schedule_1x.py's 12 epochs, the step decay at epochs 9 and 11
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], milestones=[9, 11])
]
find_unused_parameters = True

# VPQ over windows 1, 2, 4, 6, 8 (+ STQ)
val_evaluator = dict(type='VPSMetric', dataset_type='vipseg', with_stq=True)
test_evaluator = val_evaluator
