# Video K-Net Swin-B on KITTI-STEP with kernel fusion (KF): release
# video_knet_s3_swinb_rpn_1x_kitti_step_sigmoid_stride2_mask_embed_link_ffn_
# joint_update.py (same schedule as the R50 one).
_base_ = ['../video_knet_kitti.py', '../_base_/models/swin-b.py']

# Initialise from image K-Net Swin-B trained on Cityscapes-STEP: train
# configs/knet/knet_s3_swin-b_fpn_8e_cityscapes-step.py and copy its last
# checkpoint here, or convert the release's checkpoint with
# tools/model_converters/knet_to_mmdet3.py.
load_from = 'checkpoints/knet_s3_swin-b_fpn_8e_cityscapes-step.pth'

model = dict(
    backbone=dict(_base_.swin.backbone, _delete_=True, init_cfg=None),
    # ^ weights come from load_from
    # the neck is a list: restate both items, the FPN with the Swin widths
    neck=[
        dict(_base_.model.neck[0], in_channels=_base_.swin.channels),
        _base_.model.neck[1]
    ],
    # kernel fusion: the previous kernels, updated with the current frame's
    # group features, are attended to before the last update. (The release
    # also sets previous_type='update' for the tracking link; this code base
    # links with 'ffn', see docs.)
    roi_head=dict(mask_head=dict(previous_link='update_dynamic_cov')))
