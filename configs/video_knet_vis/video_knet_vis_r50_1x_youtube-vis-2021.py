# Video K-Net R50 for YouTube-VIS 2021 (the 2019 recipe on the 2021 data and
# class list).
_base_ = [
    './video_knet_vis_r50_1x_youtube-vis-2019.py',
]
data_root = 'data/youtube_vis_2021/'
dataset_version = '2021'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        dataset_version=dataset_version,
        ann_file='annotations/youtube_vis_2021_train.json'))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        dataset_version=dataset_version,
        ann_file='annotations/youtube_vis_2021_valid.json'))
test_dataloader = val_dataloader
