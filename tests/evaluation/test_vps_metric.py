"""KittiSTEPMetric / VPSMetric: model-style outputs, per-rank states merged,
agreement with tools/eval_vps.py on the files the metric writes."""
import json
import shutil

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')
from mmdet.structures import DetDataSample, TrackDataSample  # noqa: E402
from mmengine.structures import InstanceData, PixelData  # noqa: E402

from knet.datasets.synthetic import make_synthetic  # noqa: E402
from knet.evaluation.metrics.vps_metric import (KittiSTEPMetric,  # noqa
                                                VPSMetric)
from knet.formats.cityscapes import CITYSCAPES_CLASSES  # noqa: E402

from ._tools import load_tool  # noqa: E402

eval_vps = load_tool('eval_vps.py')
LABEL_IDS = (11, 13) + tuple(i for i in range(19) if i not in (11, 13))
META = dict(classes=tuple(CITYSCAPES_CLASSES[i] for i in LABEL_IDS),
            thing_classes=('person', 'car'), label_ids=LABEL_IDS)
TO_LABEL = np.full(256, 255, np.int64)
TO_LABEL[list(LABEL_IDS)] = np.arange(19)


@pytest.fixture(scope='module')
def kitti(tmp_path_factory):
    root = tmp_path_factory.mktemp('kmetric')
    m = make_synthetic('kitti-step', root / 'raw', videos=7, frames=4,
                       size=(24, 40), seed=5)
    gt_dir = root / 'gt' / 'video_sequence' / 'val'
    gt_dir.mkdir(parents=True)
    videos = [v for v in m['videos'] if v['split'] == 'val']
    for v in videos:
        for f in v['frames']:
            shutil.copy(f['label'], gt_dir / f'{v["sequence"]:06d}_'
                        f'{f["frame"]:06d}_panoptic.png')
    return root, videos


def _sample(video, f, n, damage, gt_file=False):
    sem, inst = f['semantic'].astype(np.int64), f['instance']
    ds = DetDataSample(metainfo=dict(
        video_id=video['sequence'], frame_id=f['frame'], video_length=n,
        seq_name=f'{video["sequence"]}', img_path=f['image'],
        ori_shape=sem.shape, seg_map_path=f['label']))
    ds.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(
        TO_LABEL[sem])[None])
    ids = [i for i in np.unique(inst) if i > 0]
    gi = InstanceData()
    gi.masks = np.stack([inst == i for i in ids]) if ids else \
        np.zeros((0, ) + sem.shape, bool)
    gi.instances_ids = torch.tensor([int(sem[inst == i][0]) * 1000 + int(i)
                                     for i in ids], dtype=torch.long)
    ds.gt_instances = gi
    psem, ptrack = sem.copy(), np.where(np.isin(sem, (11, 13)), inst, 0)
    if damage:
        psem[sem == 255] = 0  # every pixel gets a class
        ptrack = np.where(ptrack > 0, ptrack + 7 * (f['frame'] >= 2), 0)
        psem[:3, :5] = 13
        ptrack[:3, :5] = 99
    psem_l = TO_LABEL[psem]
    ds.pred_panoptic_seg = PixelData(
        sem_seg=torch.from_numpy(psem_l)[None],
        track_ids=torch.from_numpy(ptrack)[None])
    if gt_file:  # the ground truth only as the PNG named in the metainfo
        del ds.gt_sem_seg
        del ds.gt_instances
    track = TrackDataSample()
    track.video_data_samples = [ds]
    return track.to_dict()


def _run_metric(metric, videos, damage, gt_file=False):
    metric.dataset_meta = META
    for v in videos:
        n = len(v['frames'])
        for f in v['frames']:
            metric.process({}, [_sample(v, f, n, damage, gt_file)])


def test_perfect_predictions(kitti, tmp_path):
    root, videos = kitti
    metric = KittiSTEPMetric(outfile_prefix=str(tmp_path / 'sub'))
    _run_metric(metric, videos, damage=False)
    res = metric.evaluate(1)
    assert res['step/STQ'] == pytest.approx(1.0)
    assert res['step/VPQ'] == pytest.approx(100.0)
    assert res['step/VPQ@4'] == pytest.approx(100.0)
    assert sorted(p.name for p in (tmp_path / 'sub').iterdir()) == \
        [f'{v["sequence"]:04d}' for v in videos]


def test_ranks_merge_and_agree_with_the_tool(kitti, tmp_path):
    root, videos = kitti
    single = KittiSTEPMetric(outfile_prefix=str(tmp_path / 'sub'))
    _run_metric(single, videos, damage=True)
    whole = single.evaluate(1)
    assert whole['step/STQ'] < 1.0 and whole['step/VPQ'] < 100.0
    # ground truth read from the files named by seg_map_path instead
    from_file = KittiSTEPMetric()
    _run_metric(from_file, videos, damage=True, gt_file=True)
    res = from_file.evaluate(1)
    for k in ('STQ', 'AQ', 'SQ', 'VPQ'):
        assert res[f'step/{k}'] == pytest.approx(whole[f'step/{k}'])
    # two "ranks", one video each; states gathered and summed
    r0, r1 = KittiSTEPMetric(), KittiSTEPMetric()
    _run_metric(r0, videos[:1], damage=True)
    _run_metric(r1, videos[1:], damage=True)
    r0._flush()
    r1._flush()
    merged = r0.compute_metrics(r0.results + r1.results)
    for k in ('STQ', 'AQ', 'SQ', 'VPQ', 'VPQ_thing', 'VPQ_stuff'):
        assert merged[k] == pytest.approx(whole[f'step/{k}'], rel=1e-12)
    # the written submission evaluated from files gives the same numbers
    out = tmp_path / 'o.json'
    assert eval_vps.main(['kitti-step', '--gt-root', str(root / 'gt'),
                          '--pred-dir', str(tmp_path / 'sub'), '--out',
                          str(out)]) == 0
    tool = json.loads(out.read_text())
    for k in ('STQ', 'AQ', 'SQ', 'VPQ', 'VPQ_thing', 'VPQ_stuff'):
        assert tool[k] == pytest.approx(whole[f'step/{k}'], rel=1e-12)


def test_vps_metric_windows_and_format_only(kitti, tmp_path):
    _, videos = kitti
    m = VPSMetric(dataset_type='cityscapes-vps', windows=(1, 2))
    _run_metric(m, videos, damage=False)
    res = m.evaluate(1)
    assert set(res) == {'vps/VPQ', 'vps/VPQ_thing', 'vps/VPQ_stuff',
                        'vps/VPQ@0', 'vps/VPQ@5'}
    f = KittiSTEPMetric(outfile_prefix=str(tmp_path / 'only'),
                        format_only=True)
    _run_metric(f, videos[:1], damage=False)
    assert f.evaluate(1) == {}
    assert len(list((tmp_path / 'only').rglob('*.png'))) == 4


def test_vipseg_metric_writes_what_the_tool_reads(tmp_path):
    from knet.formats.io import read_image
    from knet.formats.vipseg import (VIPSEG_CATEGORIES, VIPSEG_STUFF_IDS,
                                     VIPSEG_THING_IDS, decode_vipseg)
    m = make_synthetic('vipseg', tmp_path / 'gt', videos=2, frames=3,
                       size=(20, 36), seed=4)
    label_ids = VIPSEG_THING_IDS + VIPSEG_STUFF_IDS
    names = {c['id']: c['name'] for c in VIPSEG_CATEGORIES}
    to_label = np.full(256, 255, np.int64)
    to_label[list(label_ids)] = np.arange(len(label_ids))
    metric = VPSMetric(dataset_type='vipseg', windows=(1, 2),
                       outfile_prefix=str(tmp_path / 'pred'))
    metric.dataset_meta = dict(
        classes=tuple(names[i] for i in label_ids),
        thing_classes=tuple(names[i] for i in VIPSEG_THING_IDS),
        label_ids=label_ids)
    for vi, video in enumerate(v for v in m['videos']
                               if v['split'] == 'val'):
        for f in video['frames']:
            raw = read_image(f['label']).astype(np.int64)
            sem, _ = decode_vipseg(raw)
            thing = np.isin(sem, VIPSEG_THING_IDS)
            ds = DetDataSample(metainfo=dict(
                video_id=vi, frame_id=f['frame'], video_length=3,
                seq_name=video['name'], img_path=f['image']))
            ds.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(
                to_label[np.clip(sem, 0, 255)])[None])
            ids = [v for v in np.unique(raw[thing])]
            gi = InstanceData()
            gi.masks = np.stack([raw == v for v in ids]) if ids else \
                np.zeros((0, ) + raw.shape, bool)
            gi.instances_ids = torch.tensor(ids, dtype=torch.long)
            ds.gt_instances = gi
            ds.pred_panoptic_seg = PixelData(
                sem_seg=torch.from_numpy(to_label[np.clip(sem, 0,
                                                          255)])[None],
                track_ids=torch.from_numpy(np.where(thing, raw, 0))[None])
            t = TrackDataSample()
            t.video_data_samples = [ds]
            metric.process({}, [t.to_dict()])
    res = metric.evaluate(1)
    assert res['vps/VPQ'] == pytest.approx(100.0)
    out = tmp_path / 'o.json'
    assert eval_vps.main(['vipseg', '--gt-root', str(tmp_path / 'gt'),
                          '--pred-dir', str(tmp_path / 'pred'),
                          '--vpq-windows', '1', '2', '--out',
                          str(out)]) == 0
    assert json.loads(out.read_text())['VPQ'] == pytest.approx(100.0)


def test_cityscapes_vps_metric_from_files(tmp_path):
    from knet.formats.io import load_json
    m = make_synthetic('cityscapes-vps', tmp_path / 'gt', videos=2,
                       frames=3, size=(20, 40), seed=6)
    gt = load_json(tmp_path / 'gt' / 'panoptic_gt_val_city_vps.json')
    segs = {a['file_name']: a['segments_info'] for a in gt['annotations']}
    ids = {a['file_name']: a['image_id'] for a in gt['annotations']}
    label_ids = tuple(range(11, 19)) + tuple(range(11))
    to_label = np.full(256, 255, np.int64)
    to_label[list(label_ids)] = np.arange(19)
    # segments_info from the GT JSON (ann_file) for the odd frames, from
    # the metainfo for the others
    metric = VPSMetric(dataset_type='cityscapes-vps',
                       ann_file=str(tmp_path / 'gt' /
                                    'panoptic_gt_val_city_vps.json'),
                       outfile_prefix=str(tmp_path / 'pred'))
    metric.dataset_meta = dict(
        classes=tuple(CITYSCAPES_CLASSES[i] for i in label_ids),
        thing_classes=CITYSCAPES_CLASSES[11:], label_ids=label_ids)
    for vi, video in enumerate(v for v in m['videos']
                               if v['split'] == 'val'):
        for k, f in enumerate(video['frames']):
            name = f['label'].split('/')[-1]
            ds = DetDataSample(metainfo=dict(
                video_id=vi, frame_id=k, video_length=3,
                seq_name=video['name'], img_path=f['image'],
                img_id=ids[name], seg_map_path=f['label']))
            if k % 2 == 0:
                ds.set_metainfo(dict(segments_info=segs[name]))
            sem = f['semantic'].astype(np.int64)
            ds.pred_panoptic_seg = PixelData(
                sem_seg=torch.from_numpy(to_label[sem])[None],
                track_ids=torch.from_numpy(f['instance'].astype(
                    np.int64))[None])
            t = TrackDataSample()
            t.video_data_samples = [ds]
            metric.process({}, [t.to_dict()])
    res = metric.evaluate(1)
    assert res['vps/VPQ'] == pytest.approx(100.0)
    assert 'vps/VPQ@15' in res
    out = tmp_path / 'o.json'
    assert eval_vps.main(['cityscapes-vps', '--gt-root',
                          str(tmp_path / 'gt'), '--pred-dir',
                          str(tmp_path / 'pred'), '--out', str(out)]) == 0
    assert json.loads(out.read_text())['VPQ'] == pytest.approx(100.0)
