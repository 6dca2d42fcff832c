# Video K-Net R50 on KITTI-STEP: the same as configs/video_knet_kitti.py
# (kept here so that every VPS config lives in one folder).
_base_ = '../video_knet_kitti.py'
