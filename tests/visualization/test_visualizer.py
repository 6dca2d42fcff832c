"""VideoPanopticVisualizer: mmdet-style add_datasample for VPS and VIS."""
import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')
from mmdet.registry import VISUALIZERS  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402
from mmdet.structures.mask import BitmapMasks  # noqa: E402
from mmengine.structures import InstanceData, PixelData  # noqa: E402

from knet.visualization.palette import track_id_colors  # noqa: E402

META = dict(
    classes=('car', 'road', 'sky'),
    thing_classes=('car', ),
    stuff_classes=('road', 'sky'),
    label_ids=(13, 0, 10),
    palette=[(0, 0, 142), (128, 64, 128), (70, 130, 180)])
H, W = 40, 64


def sample():
    """GT: sky/road + car instance 13002; prediction: the car as track 3."""
    sem = torch.full((1, H, W), 2, dtype=torch.int64)
    sem[:, 20:] = 1
    sem[:, 10:30, 10:30] = 0
    ds = DetDataSample()
    ds.gt_sem_seg = PixelData(sem_seg=sem.clone())
    car = np.zeros((1, H, W), np.uint8)
    car[0, 10:30, 10:30] = 1
    ds.gt_instances = InstanceData(
        labels=torch.tensor([0]), masks=BitmapMasks(car, H, W),
        instances_ids=torch.tensor([13002]))
    track = torch.zeros((1, H, W), dtype=torch.int64)
    track[:, 10:30, 10:30] = 3
    ds.pred_panoptic_seg = PixelData(sem_seg=sem.clone(), track_ids=track)
    return ds


def build(**kw):
    vis = VISUALIZERS.build(
        dict(type='VideoPanopticVisualizer', name=f'v{np.random.rand()}',
             alpha=1.0, contours=False, show_labels=False, show_ids=False,
             **kw))
    vis.dataset_meta = META
    return vis


def test_gt_and_prediction_side_by_side(tmp_path):
    vis = build()
    img = np.zeros((H, W, 3), np.uint8)
    out = tmp_path / 'frame.png'
    vis.add_datasample('f', img, data_sample=sample(), out_file=str(out))
    drawn = vis.get_image()
    assert drawn.shape[1] == 2 * W + 4 and drawn.shape[0] > H  # titles
    band = drawn.shape[0] - H
    gt, pred = drawn[band:, :W], drawn[band:, W + 4:]
    assert (gt[35, 50] == (128, 64, 128)).all()  # road
    assert (pred[5, 50] == (70, 130, 180)).all()  # sky
    assert (gt[20, 20] == track_id_colors(np.array([13002]))[0]).all()
    assert (pred[20, 20] == track_id_colors(np.array([3]))[0]).all()
    import cv2
    assert cv2.imread(str(out)).shape == drawn.shape


def test_prediction_only_and_vis_instances():
    vis = build()
    img = np.zeros((H, W, 3), np.uint8)
    ds = DetDataSample()
    masks = torch.zeros((2, H, W), dtype=torch.bool)
    masks[0, :10, :10] = True
    masks[1, 20:, 20:] = True
    ds.pred_track_instances = InstanceData(
        masks=masks, labels=torch.tensor([0, 0]),
        scores=torch.tensor([0.9, 0.1]), instances_id=torch.tensor([4, 5]))
    vis.add_datasample('f', img, data_sample=ds, draw_gt=False)
    drawn = vis.get_image()
    assert drawn.shape == (H, W, 3)
    # id 4 drawn in the colour of track value 5 (ids + 1, 0 = none);
    # the 0.1-score instance is below the 0.3 threshold
    assert (drawn[5, 5] == track_id_colors(np.array([5]))[0]).all()
    assert (drawn[30, 30] == 0).all()


def test_mmdet_track_visualization_hook_uses_it(tmp_path):
    """`tools/test.py --show-dir` path: mmdet's hook -> add_datasample."""
    import cv2
    from mmdet.engine.hooks import TrackVisualizationHook
    vis = build()
    vis.dataset_meta = META
    img_dir = tmp_path / 'video_sequence' / 'val'
    img_dir.mkdir(parents=True)
    img_path = img_dir / '000002_000000_leftImg8bit.png'
    cv2.imwrite(str(img_path), np.zeros((H, W, 3), np.uint8))
    ds = sample()
    del ds.gt_sem_seg, ds.gt_instances  # test mode: no annotations
    ds.set_metainfo(dict(img_path=str(img_path)))
    hook = TrackVisualizationHook(draw=True, frame_interval=1,
                                  test_out_dir=str(tmp_path / 'vis'))
    hook._visualizer = vis
    hook.visualize_single_image(ds, 0)
    out = tmp_path / 'vis' / 'video_sequence' / img_path.name
    drawn = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    assert drawn.shape == (H, W, 3)  # prediction only
    assert (drawn[20, 20] == track_id_colors(np.array([3]))[0]).all()
