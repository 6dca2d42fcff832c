# K-Net Swin-B with the deformable FPN, COCO instance segmentation,
# multi-scale 3x: the Video K-Net release's
# configs/det/coco/knet_s3_swin-b_deformable_fpn_ms-3x_coco.py (its COCO
# Swin-B; the optimiser of the R50 config, backbone lr x0.25, as there).
_base_ = [
    './knet_s3_r50_fpn_ms-3x_coco.py', '../_base_/models/swin-b.py',
    '../_base_/models/deformable-fpn.py'
]
model = dict(
    backbone=dict(_base_.swin.backbone, _delete_=True),
    neck=[
        dict(_base_.deformable_fpn, in_channels=_base_.swin.channels),
        _base_.semantic_fpn
    ])
