"""GtPredVideoWriter: ground truth | prediction panels of KITTI-STEP frames."""
import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import PixelData

from knet.formats import encode_kitti_step
from knet.formats.io import save_image
from knet.visualization.gt_pred_video import GtPredVideoWriter
from knet.visualization.video_io import read_video_info

META = dict(
    classes=('person', 'car', 'road', 'sky'),
    thing_classes=('person', 'car'),
    stuff_classes=('road', 'sky'),
    label_ids=(11, 13, 0, 10),
    palette=[(220, 20, 60), (0, 0, 142), (128, 64, 128), (70, 130, 180)])
H, W = 40, 64


def kitti_frame(tmp_path, t):
    """Image + panoptic PNG: sky / road, a car (instance 300) moving."""
    sem = np.full((H, W), 10, np.uint8)
    sem[H // 2:] = 0
    inst = np.zeros((H, W), np.int32)
    sem[10:30, 4 + 4 * t:24 + 4 * t] = 13
    inst[10:30, 4 + 4 * t:24 + 4 * t] = 300
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 1] = 90 + 10 * t
    img_path = tmp_path / f'{t:06d}_leftImg8bit.png'
    gt_path = tmp_path / f'{t:06d}_panoptic.png'
    save_image(img_path, img)
    save_image(gt_path, encode_kitti_step(sem, inst))
    return img_path, gt_path, sem, inst


def sample(img_path, gt_path, labels, track, t):
    s = DetDataSample(metainfo=dict(img_path=str(img_path),
                                    seg_map_path=str(gt_path),
                                    seq_name='0002', frame_id=t))
    s.pred_panoptic_seg = PixelData(
        sem_seg=torch.as_tensor(labels)[None],
        track_ids=torch.as_tensor(track)[None])
    return s


def test_perfect_prediction_draws_two_equal_panels(tmp_path):
    to_label = {11: 0, 13: 1, 0: 2, 10: 3}
    mp4, gif = tmp_path / 'v.mp4', tmp_path / 'v.gif'
    writer = GtPredVideoWriter(META, str(mp4), str(gif), fps=4,
                               min_height=80)
    for t in range(3):
        img_path, gt_path, sem, inst = kitti_frame(tmp_path, t)
        labels = np.vectorize(to_label.get)(sem)
        # the prediction uses model labels and the GT's track id
        track = np.where(inst > 0, 13 * 1000 + inst, 0)
        panel = writer.add(sample(img_path, gt_path, labels, track, t))
        # 2x enlarged (80 / 40), two panels + a 4-pixel gap, a title band
        body = panel[-2 * H:]
        left, right = body[:, :2 * W], body[:, 2 * W + 4:]
        assert left.shape == right.shape == (2 * H, 2 * W, 3)
        assert (left == right).all()
        assert (body[:, 2 * W:2 * W + 4] == 255).all()
    assert writer.close() == [str(mp4), str(gif)]
    info = read_video_info(str(mp4))
    assert (info['codec'], info['frames']) == ('h264', 3)


def test_wrong_prediction_differs_from_ground_truth(tmp_path):
    writer = GtPredVideoWriter(META, str(tmp_path / 'v.mp4'), min_height=0)
    img_path, gt_path, sem, inst = kitti_frame(tmp_path, 0)
    everything_road = np.full((H, W), 2)
    panel = writer.add(sample(img_path, gt_path, everything_road,
                              np.zeros((H, W), np.int64), 0))
    body = panel[-H:]
    left, right = body[:, :W], body[:, W + 4:]
    # the sky rows (top, away from the car) differ: sky vs road colours
    assert (left[2:8, 40:60] != right[2:8, 40:60]).any(-1).all()
    writer.abort()
    assert not (tmp_path / 'v.mp4').exists()
