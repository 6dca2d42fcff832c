# Video K-Net Swin-B on KITTI-STEP with kernel fusion: the release's
# video_knet_s3_swinb_rpn_1x_kitti_step_sigmoid_stride2_mask_embed_link_ffn_
# joint_update.py (same schedule as the R50 one). A checkpoint of that
# release loads as it is (converted in memory):
#   python tools/test.py THIS_CONFIG RELEASE.pth
_base_ = ['../video_knet_kitti.py', '../_base_/models/swin-b.py']

# Initialise from image K-Net Swin-B trained on Cityscapes-STEP: train
# configs/knet/knet_s3_swin-b_fpn_8e_cityscapes-step.py and copy its last
# checkpoint here, or put the release's checkpoint here (converted when
# loaded; the video-only modules start from their initialisation).
load_from = 'checkpoints/knet_s3_swin-b_fpn_8e_cityscapes-step.pth'

model = dict(
    backbone=dict(_base_.swin.backbone, _delete_=True, init_cfg=None),
    # ^ weights come from load_from
    # the neck list of _base_/models/r50_fpn.py, the FPN with the Swin widths
    neck=[
        dict(_base_.fpn, in_channels=_base_.swin.channels),
        _base_.semantic_fpn
    ],
    # every update stage has the release's two link paths; the previous
    # frame's kernels reach the last stage only:
    # - kernel fusion (previous_link='update_dynamic_cov'): the previous
    #   kernels, updated with the current frame's group features, are
    #   attended to before the kernel update; the result replaces the
    #   stage's input kernels (classes and masks use it);
    # - tracking link (previous_type='update'): the updated kernels attend
    #   to the previous kernels updated the same way (a second updator);
    #   the result feeds the association embedding only.
    roi_head=dict(
        mask_head=dict(
            previous_type='update', previous_link='update_dynamic_cov')))
