# Video K-Net Swin-L on KITTI-STEP with kernel fusion: the release's
# video_knet_s3_swinl_rpn_1x_kitti_step_sigmoid_stride2_mask_embed_link_ffn_
# joint_update.py, i.e. video_knet_s3_swinb_kf_kitti_step.py (see there)
# with the Swin-L backbone.
_base_ = ['../video_knet_kitti.py', '../_base_/models/swin-l.py']

# image K-Net Swin-L trained on Cityscapes-STEP (or the release's checkpoint)
load_from = 'checkpoints/knet_s3_swin-l_fpn_8e_cityscapes-step.pth'

model = dict(
    backbone=dict(_base_.swin.backbone, _delete_=True, init_cfg=None),
    neck=[
        dict(_base_.fpn, in_channels=_base_.swin.channels),
        _base_.semantic_fpn
    ],
    roi_head=dict(
        mask_head=dict(
            previous_type='update', previous_link='update_dynamic_cov')))
