# K-Net Swin-b-FPN, Cityscapes-STEP (Video K-Net KITTI-STEP initialisation).
_base_ = [
    './knet_s3_r50_fpn_8e_cityscapes-step.py',
    '../_base_/models/swin-b.py'
]
model = dict(
    backbone=dict(_base_.swin.backbone, _delete_=True),
    # the neck is a list: restate both items, the FPN with the Swin widths
    neck=[
        dict(_base_.model.neck[0], in_channels=_base_.swin.channels),
        _base_.model.neck[1]
    ])
optim_wrapper = dict(paramwise_cfg=_base_.swin.paramwise_cfg)
