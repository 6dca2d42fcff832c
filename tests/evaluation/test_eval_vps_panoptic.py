"""tools/eval_vps.py cityscapes-vps and vipseg: round trips through the
pan_pred/ + pred.json writer, hand-checked damage, and one-line errors."""
import json

import numpy as np
import pytest

from knet.datasets.synthetic import make_synthetic
from knet.evaluation.writers.panoptic_video import PanopticVideoWriter
from knet.formats.io import load_json, read_image
from knet.utils.cli import run_cli
from knet.formats.panopticapi import rgb2id
from knet.formats.vipseg import VIPSEG_THING_IDS, decode_vipseg

from ._tools import load_tool

eval_vps = load_tool('eval_vps.py')
CITY_THINGS = tuple(range(11, 19))


@pytest.fixture(scope='module')
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp('cvps')
    m = make_synthetic('cityscapes-vps', root / 'gt', videos=4, frames=4,
                       size=(24, 48), seed=1)
    gt = load_json(root / 'gt' / 'panoptic_gt_val_city_vps.json')
    ids = {im['file_name'].replace('_leftImg8bit.png', '_gtFine_color.png'):
           im['id'] for im in gt['images']}
    w = PanopticVideoWriter(root / 'pred', CITY_THINGS, 'cityscapes-vps')
    for video in m['videos']:
        if video['split'] != 'val':
            continue
        for f in video['frames']:
            image_id = ids[f['label'].split('/')[-1]]
            w.write(video['name'], str(image_id), f['semantic'],
                    f['instance'], image_id=image_id)
    w.close()
    return root


def _city(root, pred, out, code=0):
    return run_cli(eval_vps.main, ['cityscapes-vps', '--gt-root',
                                   str(root / 'gt'), '--pred-dir', str(pred),
                                   '--out', str(out)])


def test_cityscapes_vps_round_trip(city, tmp_path):
    assert _city(city, city / 'pred', tmp_path / 'o.json') == 0
    res = json.loads((tmp_path / 'o.json').read_text())
    assert list(res['VPQ_per_window']) == ['0', '5', '10', '15']
    assert res['VPQ'] == pytest.approx(100.0)
    assert res['VPQ_thing'] == pytest.approx(100.0)


def test_cityscapes_vps_bad_inputs(city, tmp_path, capsys):
    import shutil
    pred = tmp_path / 'pred'
    shutil.copytree(city / 'pred', pred)
    data = load_json(pred / 'pred.json')
    # an id present in the PNG but missing from pred.json
    seg = data['annotations'][0]['segments_info'].pop(0)
    (pred / 'pred.json').write_text(json.dumps(data))
    assert _city(city, pred, tmp_path / 'o.json') == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pred.json' in err[0] and str(seg['id']) in \
        err[0]
    # an unknown category
    data['annotations'][0]['segments_info'].append(dict(seg,
                                                        category_id=77))
    (pred / 'pred.json').write_text(json.dumps(data))
    assert _city(city, pred, tmp_path / 'o.json') == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'unknown category' in err[0]


@pytest.fixture(scope='module')
def vipseg(tmp_path_factory):
    root = tmp_path_factory.mktemp('vipseg')
    m = make_synthetic('vipseg', root / 'gt', videos=4, frames=5,
                       size=(20, 36), seed=2)
    w = PanopticVideoWriter(root / 'pred', VIPSEG_THING_IDS, 'vipseg')
    for video in m['videos']:
        if video['split'] != 'val':
            continue
        for f in video['frames']:
            raw = read_image(f['label']).astype(np.int64)
            sem, _ = decode_vipseg(raw)
            # every raw thing value is its own segment (track)
            w.write(video['name'], f['label'].split('/')[-1], sem, raw)
    w.close()
    return root, m


def _vip(root, pred, out, *extra):
    return run_cli(eval_vps.main, ['vipseg', '--gt-root', str(root / 'gt'),
                                   '--split', 'val', '--pred-dir', str(pred),
                                   '--out', str(out), *extra])


def test_vipseg_round_trip_and_window_labels(vipseg, tmp_path):
    root, _ = vipseg
    assert _vip(root, root / 'pred', tmp_path / 'o.json', '--workers',
                '2') == 0
    res = json.loads((tmp_path / 'o.json').read_text())
    assert list(res['VPQ_per_window']) == ['1', '2', '4', '6', '8']
    # 5-frame videos: windows 6 and 8 do not exist -> null, not a crash
    assert res['VPQ_per_window']['6'] is None
    assert res['VPQ_per_window']['8'] is None
    assert res['VPQ'] == pytest.approx(100.0)
    assert any('window 6' in w for w in res['warnings'])


def test_vipseg_one_frame_damaged(vipseg, tmp_path):
    """Relabel one thing tube as another class in a single frame: that
    frame's windows lose the match."""
    import shutil
    root, m = vipseg
    pred = tmp_path / 'pred'
    shutil.copytree(root / 'pred', pred)
    data = load_json(pred / 'pred.json')
    video = data['annotations'][0]
    frame = video['annotations'][2]
    thing = [s for s in frame['segments_info'] if s['isthing']][0]
    png = pred / 'pan_pred' / video['video_id'] / frame['file_name']
    ids = rgb2id(read_image(png))
    assert (ids == thing['id']).any()
    thing['category_id'] = [t for t in VIPSEG_THING_IDS
                            if t != thing['category_id']][0]
    (pred / 'pred.json').write_text(json.dumps(data))
    assert _vip(root, pred, tmp_path / 'o.json', '--vpq-windows', '1') == 0
    res = json.loads((tmp_path / 'o.json').read_text())
    assert res['VPQ'] < 100.0
    per = res['VPQ_per_class']['1']
    fps = sum(v['fp'] for v in per.values())
    fns = sum(v['fn'] for v in per.values())
    assert fps == 1 and fns == 1


def test_vipseg_missing_frame(vipseg, tmp_path, capsys):
    import shutil
    root, _ = vipseg
    pred = tmp_path / 'pred'
    shutil.copytree(root / 'pred', pred)
    victim = sorted((pred / 'pan_pred').rglob('*.png'))[3]
    victim.unlink()
    assert _vip(root, pred, tmp_path / 'o.json') == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(victim) in err[0]
