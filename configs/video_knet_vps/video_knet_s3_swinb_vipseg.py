# Video K-Net Swin-B on VIPSeg: release
# video_knet_s3_swin_b_rpn_vipseg_mask_embed_link_ffn_joint_train_8e.py
# (8 epochs, LR step at 7).
_base_ = ['./video_knet_s3_r50_vipseg.py', '../_base_/models/swin-b.py']

# Image K-Net Swin-B trained on COCO panoptic: train
# configs/knet/knet_s3_swin-b_fpn_ms-3x_coco-panoptic.py and copy its last
# checkpoint here (or convert the release's, see the R50 config).
load_from = 'checkpoints/knet_s3_swin-b_fpn_ms-3x_coco-panoptic.pth'

model = dict(
    backbone=dict(_base_.swin.backbone, _delete_=True, init_cfg=None),
    # ^ weights come from load_from
    # the neck list of _base_/models/r50_fpn.py, the FPN with the Swin widths
    neck=[
        dict(_base_.fpn, in_channels=_base_.swin.channels),
        _base_.semantic_fpn
    ])

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[7])
]
