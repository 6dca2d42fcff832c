# Video K-Net R50 for YouTube-VIS 2019: release
# configs/video_knet_vis/video_knet_vis/knet_track_r50_1x_youtubevis.py
# (12 epochs, LR steps at 8 and 11, clips of 5 consecutive frames).
_base_ = [
    '../_base_/models/video_knet_vis_r50.py',
    '../_base_/datasets/youtube_vis_2019.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/video_runtime.py',
]

# Initialise from a COCO-instance K-Net R50 (release step 1): train
# configs/knet/knet_s3_r50_fpn_ms-3x_coco.py or use the release's checkpoint
# (converted when loaded). The class layers (80 -> 40 classes) are
# re-initialised; the clip head (`tracker`) starts from scratch as in the
# release (a logged partial load).
# load_from = 'checkpoints/knet_coco_instance_r50_mmdet3.pth'

# The test loader gives one whole video per sample (see the dataset base);
# the model runs it in windows of `model.window_size` frames.

# The official valid split has no public labels: format the results for
# the server (results.json inside submission_file.zip). For a local AP use
# the hold-out split of tools/dataset/youtubevis2coco.py --holdout N:
#   --cfg-options test_dataloader.dataset.ann_file=\
#       annotations/youtube_vis_2019_holdout_val.json \
#       test_dataloader.dataset.data_prefix.img_path=train/JPEGImages \
#       test_evaluator.format_only=False
val_evaluator = dict(
    type='KNetYouTubeVISMetric',  # mmdet's, runnable with NumPy 2
    metric='youtube_vis_ap',
    outfile_prefix='./youtube_vis_results',
    format_only=True)
test_evaluator = val_evaluator
# no validation during training on the unlabelled valid split
train_cfg = dict(val_interval=100)
