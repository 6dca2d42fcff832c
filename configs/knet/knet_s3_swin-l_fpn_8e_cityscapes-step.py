# K-Net Swin-l-FPN, Cityscapes-STEP (Video K-Net KITTI-STEP initialisation).
_base_ = [
    './knet_s3_r50_fpn_8e_cityscapes-step.py',
    '../_base_/models/swin-l.py'
]
model = dict(
    backbone=dict(_base_.swin.backbone, _delete_=True),
    # the neck list of _base_/models/r50_fpn.py, the FPN with the Swin widths
    neck=[
        dict(_base_.fpn, in_channels=_base_.swin.channels),
        _base_.semantic_fpn
    ])
optim_wrapper = dict(paramwise_cfg=_base_.swin.paramwise_cfg)
