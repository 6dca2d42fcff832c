"""Synthetic Cityscapes-VPS, YouTube-VIS, Cityscapes, COCO; the dispatcher."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from knet.datasets.synthetic import SYNTHETIC_DATASETS, make_synthetic

SIZE = (32, 48)
IMAGE_DATASETS = ['kitti-step', 'vipseg', 'cityscapes-vps',
                  'youtube_vis_2019', 'youtube_vis_2021', 'cityscapes',
                  'coco_panoptic']


def _rgb2id(rgb):
    rgb = rgb.astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def _digest(root):
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob('*')) if p.is_file()}


@pytest.mark.parametrize('dataset', IMAGE_DATASETS)
def test_deterministic_by_seed(tmp_path, dataset):
    kw = dict(videos=2, frames=2, size=SIZE)
    make_synthetic(dataset, tmp_path / 'a', seed=1, **kw)
    make_synthetic(dataset, tmp_path / 'b', seed=1, **kw)
    make_synthetic(dataset, tmp_path / 'c', seed=2, **kw)
    a, b, c = (_digest(tmp_path / x) for x in 'abc')
    assert a and a == b
    assert a != c


def test_unknown_dataset(tmp_path):
    with pytest.raises(ValueError, match='unknown dataset'):
        make_synthetic('kitti', tmp_path)
    assert {'refcoco', 'refcoco+', 'refcocog', 'refclef'} <= \
        set(SYNTHETIC_DATASETS)


def test_cityscapes_vps(tmp_path):
    m = make_synthetic('cityscapes-vps', tmp_path, videos=2, frames=3,
                       size=SIZE, seed=0)
    train, val = m['videos']
    assert train['split'] == 'train' and val['split'] == 'val'
    # every 5th frame annotated; 5 * frames frames in img_all for val
    assert [f['frame'] for f in val['frames']] == [5, 10, 15]
    assert len(val['img_all']) == 15
    assert len(list((tmp_path / 'train' / 'img').glob('*.png'))) == 3
    for f in train['frames']:
        lab = np.array(Image.open(f['label']))
        assert f['label'].endswith('_gtFine_color.png')
        np.testing.assert_array_equal(lab, f['semantic'])
    pan = json.loads((tmp_path / 'panoptic_gt_val_city_vps.json').read_text())
    assert len(pan['annotations']) == 3
    ids_over_time = {}
    for f, ann in zip(val['frames'], pan['annotations']):
        ids = _rgb2id(np.array(Image.open(f['label'])))
        segs = {s['id']: s for s in ann['segments_info']}
        assert set(np.unique(ids)) - {0} == set(segs)
        sem, ins = f['semantic'].astype(np.int64), f['instance']
        for sid, s in segs.items():
            where = ids == sid
            assert (sem[where] == s['category_id']).all()
            assert s['area'] == where.sum()
            if s['category_id'] >= 11 and not s['iscrowd']:
                assert len(np.unique(ins[where])) == 1
                ids_over_time.setdefault(int(ins[where][0]), set()).add(sid)
            else:
                assert (ins[where] == 0).all()
        assert (ids[sem == 255] == 0).all()
        assert (f['crowd'] == ((sem >= 11) & (sem != 255) & (ins == 0))).all()
    # an object keeps its segment id across frames
    assert all(len(v) == 1 for v in ids_over_time.values())
    inst = json.loads((tmp_path / 'instances_train_city_vps_rle.json')
                      .read_text())
    assert {c['id'] for c in inst['categories']} == set(range(11, 19))
    assert all(a['inst_id'] // 1000 == a['category_id']
               for a in inst['annotations'])


@pytest.mark.parametrize('version', ['2019', '2021'])
def test_youtube_vis(tmp_path, version):
    from pycocotools import mask as mask_utils
    m = make_synthetic(f'youtube_vis_{version}', tmp_path, videos=2,
                       frames=4, size=SIZE, seed=3)
    train_json = Path(m['train_json'])
    if version == '2019':
        assert train_json == tmp_path / 'annotations' / 'train.json'
    else:
        assert train_json == tmp_path / 'train' / 'instances.json'
    data = json.loads(train_json.read_text())
    assert len(data['categories']) == 40
    first = data['categories'][0]['name']
    assert first == ('person' if version == '2019' else 'airplane')
    valid = json.loads(Path(m['valid_json']).read_text())
    assert 'annotations' not in valid and len(valid['videos']) == 1
    videos = {v['id']: v for v in data['videos']}
    truth = {v['id']: v for v in m['videos'] if v['split'] == 'train'}
    had_null = False
    for a in data['annotations']:
        video = videos[a['video_id']]
        assert len(a['segmentations']) == video['length'] == 4
        for t, seg in enumerate(a['segmentations']):
            gt = truth[a['video_id']]['frames'][t]['instance'] == a['id']
            if seg is None:
                had_null = True
                assert not gt.any() and a['bboxes'][t] is None
                continue
            rle = mask_utils.frPyObjects(seg, *seg['size'])
            np.testing.assert_array_equal(mask_utils.decode(rle).astype(bool),
                                          gt)
            assert a['areas'][t] == gt.sum()
            assert a['bboxes'][t] == mask_utils.toBbox(rle).tolist()
            assert (tmp_path / 'train' / 'JPEGImages' /
                    video['file_names'][t]).is_file()
    assert had_null, 'a track that enters late has null frames'


def test_cityscapes(tmp_path):
    m = make_synthetic('cityscapes', tmp_path, videos=2, frames=2, size=SIZE,
                       seed=4)
    f = m['videos'][0]['frames'][1]
    assert Path(f['image']).parent == tmp_path / 'leftImg8bit/train/aachen'
    lab = np.array(Image.open(f['label']))
    inst = np.array(Image.open(f['instance_label']))
    assert lab.dtype == np.uint8 and inst.dtype == np.uint16
    np.testing.assert_array_equal(lab, f['label_id'])
    np.testing.assert_array_equal(inst, f['instance_ids'])
    assert set(np.unique(lab)) <= set(range(34))
    single = inst >= 1000
    # instance ids encode their label id; groups/stuff carry the label id
    np.testing.assert_array_equal(inst[single] // 1000, lab[single])
    np.testing.assert_array_equal(inst[~single], lab[~single])
    assert set(np.unique(lab[single])) <= {24, 25, 26, 27, 28, 31, 32, 33}
    assert (inst[single] % 1000 == 0).any()  # Cityscapes counts from 0
    assert f['crowd'].any() and (lab[f['crowd']] >= 24).all()
    assert (inst[f['crowd']] < 1000).all()


def test_coco_panoptic(tmp_path):
    m = make_synthetic('coco_panoptic', tmp_path, videos=2, frames=2,
                       size=SIZE, seed=5)
    pan = json.loads((tmp_path / 'annotations/panoptic_val2017.json')
                     .read_text())
    assert len(pan['categories']) == 133
    assert sum(c['isthing'] for c in pan['categories']) == 80
    cats = {c['id']: c for c in pan['categories']}
    val = m['videos'][1]
    for f, ann in zip(val['frames'], pan['annotations']):
        assert (tmp_path / 'val2017' / Path(f['image']).name).is_file()
        ids = _rgb2id(np.array(Image.open(tmp_path / 'panoptic_val2017' /
                                          ann['file_name'])))
        np.testing.assert_array_equal(ids, f['segment_ids'])
        segs = {s['id']: s for s in ann['segments_info']}
        assert set(np.unique(ids)) - {0} == set(segs)
        for sid, s in segs.items():
            where = ids == sid
            assert (f['semantic'][where] == s['category_id']).all()
            assert s['iscrowd'] == int(f['crowd'][where].all())
            if s['iscrowd']:
                assert cats[s['category_id']]['isthing'] == 1
        np.testing.assert_array_equal(ids == 0, f['void'])
