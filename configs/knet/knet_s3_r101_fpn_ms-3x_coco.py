# K-Net R101-FPN, COCO instance segmentation, multi-scale 3x.
_base_ = './knet_s3_r50_fpn_ms-3x_coco.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
