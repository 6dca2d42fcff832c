# Video K-Net, ResNet-50, KITTI-STEP (the README's entry point).
# Release: video_knet_s3_r50_rpn_1x_kitti_step_sigmoid_stride2_mask_embed_
# link_ffn_joint_train.py: 12 epochs over the train set repeated x2, LR steps
# at epochs 9 and 11, 1000-iteration linear warm-up, AdamW 1e-4 / wd 0.05,
# backbone LR x0.25, grad-norm clip 1.0, one clip (key + reference frame)
# per GPU on 16 GPUs.
_base_ = [
    './_base_/models/video_knet_s3_r50_fpn.py',
    './_base_/datasets/kitti_step_vps.py',
    './_base_/video_runtime.py',
]

# Initialise from image K-Net R50 trained on Cityscapes-STEP (release step
# 1): train configs/knet/knet_s3_r50_fpn_8e_cityscapes-step.py and copy its
# last checkpoint here, or put the release's knet_step_city_r50.pth here
# (converted when loaded). The video-only modules (association embedding,
# link) keep their initialisation: a logged partial load, see the README.
load_from = 'checkpoints/knet_s3_r50_fpn_8e_cityscapes-step.pth'

# The dataset config cannot wrap the train set in RepeatDataset (videos are
# sampled with TrackImgSampler), so the x2 repeat becomes twice the epochs.
max_epochs = 24
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs,
    val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[18, 22],  # epochs 9 and 11 of the x2-repeated set
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    # same training, ~300 per-parameter groups merged into a few plain-dict
    # groups (knet/engine/optim_constructor.py): less per-step overhead
    constructor='MergedParamGroupsConstructor',
    optimizer=dict(type='AdamW', lr=0.0001, weight_decay=0.05),
    clip_grad=dict(max_norm=1, norm_type=2),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.25)}))
# link modules of stages 0/1 and (first frame) never get gradients
find_unused_parameters = True
auto_scale_lr = dict(enable=False, base_batch_size=16)

# STQ (+ AQ, SQ) and VPQ over windows 1-4; the GT comes from the panoptic
# PNGs named by seg_map_path when the test pipeline loads no annotation.
val_evaluator = dict(type='KittiSTEPMetric')
test_evaluator = val_evaluator
