"""KNetYouTubeVISMetric: mmdet's YouTubeVISMetric computes AP under NumPy 2
(its ytviseval calls np.float); a perfect and a half-wrong prediction."""
import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')
from mmdet.structures import DetDataSample, TrackDataSample  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

from knet.evaluation.metrics.youtube_vis_metric import \
    KNetYouTubeVISMetric  # noqa: E402
from knet.formats.coco_mask import encode_rle  # noqa: E402

H, W = 16, 16


def _video(pred_shift):
    frames = []
    for t in range(2):
        m = np.zeros((H, W), bool)
        m[2 + t:8 + t, 2:8] = True
        ds = DetDataSample(metainfo=dict(
            img_id=t + 1, video_id=1, frame_id=t, ori_shape=(H, W),
            ori_video_length=2, video_length=2,
            instances=[dict(bbox_label=0, bbox=[2, 2 + t, 8, 8 + t],
                            instance_id=1, mask=encode_rle(m))]))
        pm = np.roll(m, pred_shift * t, axis=1)
        pred = InstanceData()
        pred.masks = torch.from_numpy(pm[None])
        pred.bboxes = torch.tensor([[2., 2., 8., 8.]])
        pred.scores = torch.tensor([0.9])
        pred.labels = torch.tensor([0])
        pred.instances_id = torch.tensor([1])
        ds.pred_track_instances = pred
        frames.append(ds)
    t = TrackDataSample()
    t.video_data_samples = frames
    return t


@pytest.mark.parametrize('shift,ap,ap75', [(0, 1.0, 1.0), (2, 0.5, 0.0)])
def test_ap_under_numpy2(shift, ap, ap75):
    # shift 2 in frame 1: I = 36 + 24, U = 36 + 48 -> video IoU 60 / 84 =
    # 0.714: a match at the thresholds 0.50 .. 0.70 (5 of 10) -> AP 0.5
    metric = KNetYouTubeVISMetric()
    metric.dataset_meta = dict(classes=('a', ))
    metric.process({}, [_video(shift).to_dict()])
    res = metric.evaluate(1)
    assert res['youtube_vis/segm_mAP'] == pytest.approx(ap)
    assert res['youtube_vis/segm_mAP_50'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_mAP_75'] == pytest.approx(ap75)
    assert 'float' not in np.__dict__  # the alias does not leak


def test_metric_writes_submission_folder_and_evaluates_twice(tmp_path):
    """outfile_prefix is a folder (results.json + submission_file.zip, also
    when AP is computed), and a second evaluate() works (mmdet 3.3 leaves
    gathered meta information behind that broke the next run)."""
    import json
    import zipfile

    metric = KNetYouTubeVISMetric(outfile_prefix=str(tmp_path / 'sub'))
    metric.dataset_meta = dict(classes=('a', ))
    aps = []
    for _ in range(2):
        metric.process({}, [_video(0).to_dict()])
        aps.append(metric.evaluate(1)['youtube_vis/segm_mAP'])
    assert aps == [pytest.approx(1.0), pytest.approx(1.0)]
    results = json.loads((tmp_path / 'sub' / 'results.json').read_text())
    with zipfile.ZipFile(tmp_path / 'sub' / 'submission_file.zip') as z:
        assert z.namelist() == ['results.json']
        assert json.loads(z.read('results.json')) == results
    assert len(results) == 1 and len(results[0]['segmentations']) == 2
