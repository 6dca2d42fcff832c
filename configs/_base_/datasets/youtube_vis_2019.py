# YouTube-VIS 2019 through mmdet's YouTubeVISDataset on the COCO-video JSON
# written by tools/dataset/youtubevis2coco.py. Video K-Net release settings:
# clips of 5 consecutive frames around a key frame (the release drew 5
# references from [key - 2, key + 2]), short side resized to one of
# 288 .. 512 (long side free), flip p = 0.5, all shared by the frames of the
# clip; 2 clips per GPU. Test: (640, 360), one frame per sample in video
# order.
dataset_type = 'YouTubeVISDataset'
data_root = 'data/youtube_vis_2019/'
dataset_version = '2019'
backend_args = None

train_pipeline = [
    dict(type='ContiguousClipSample', num_frames=5),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(type='RandomChoiceResize',
                 scales=[(1000000, s) for s in
                         (288, 320, 352, 392, 416, 448, 480, 512)],
                 keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackTrackInputs'),
]

test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='Resize', scale=(640, 360), keep_ratio=True),
            dict(type='LoadTrackAnnotations', with_mask=True),
        ]),
    dict(type='PackTrackInputs'),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        dataset_version=dataset_version,
        ann_file='annotations/youtube_vis_2019_train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    # One whole video per sample (video-level sampling, as mmdet's
    # Mask2Former-VIS): YouTubeVISMetric needs every frame of a video.
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        dataset_version=dataset_version,
        ann_file='annotations/youtube_vis_2019_valid.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
