"""tools/dataset/cityscapes_prepare.py on synthetic official Cityscapes."""
import json
import shutil

import numpy as np
import pytest
from PIL import Image

try:
    from _data_helpers import one_line_error, run_tool, tree_hash
except ImportError:  # tests/tools became a package
    from tests.tools._data_helpers import one_line_error, run_tool, tree_hash
from knet.datasets.synthetic import make_synthetic

SCRIPT = 'tools/dataset/cityscapes_prepare.py'
labels = pytest.importorskip('cityscapesscripts.helpers.labels')


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cityscapes')
    m = make_synthetic('cityscapes', tmp / 'raw', videos=2, frames=2,
                       size=(24, 40), seed=8)
    before = tree_hash(tmp / 'raw')
    proc = run_tool(SCRIPT, '--src', tmp / 'raw', '--dst', tmp / 'cs')
    assert proc.returncode == 0, proc.stderr
    assert tree_hash(tmp / 'raw') == before, 'source changed'
    return m, tmp / 'cs', proc


def _rgb2id(a):
    a = a.astype(np.int64)
    return a[..., 0] + 256 * a[..., 1] + 65536 * a[..., 2]


def test_train_id_maps(prepared):
    m, dst, _ = prepared
    id2label = labels.id2label
    for video in m['videos']:
        for f in video['frames']:
            stem = f['label'].replace('/raw/', '/cs/')[:-len('_labelIds.png')]
            train = np.array(Image.open(f'{stem}_labelTrainIds.png'))
            np.testing.assert_array_equal(train, f['semantic'])
            inst_train = np.array(Image.open(f'{stem}_instanceTrainIds.png'))
            expect = np.zeros(inst_train.shape, np.int64)
            for v in np.unique(f['instance_ids']):
                lab = id2label[int(v) // 1000 if v >= 1000 else int(v)]
                tid = lab.trainId if lab.trainId >= 0 else 255
                value = tid * 1000 + int(v) % 1000 \
                    if v >= 1000 and tid != 255 else tid
                expect[f['instance_ids'] == v] = value
            np.testing.assert_array_equal(inst_train, expect)


def test_panoptic_and_instances(prepared):
    m, dst, _ = prepared
    from pycocotools import mask as mask_utils
    video = m['videos'][1]  # val
    pan = json.loads((dst / 'annotations/cityscapes_panoptic_val.json')
                     .read_text())
    pan_t = json.loads((dst / 'annotations/'
                        'cityscapes_panoptic_val_trainId.json').read_text())
    assert {c['id'] for c in pan_t['categories']} == set(range(19))
    anns = {a['image_id']: a for a in pan['annotations']}
    for f in video['frames']:
        image_id = f['image'].split('/')[-1][:-len('_leftImg8bit.png')]
        ann = anns[image_id]
        ids = _rgb2id(np.array(Image.open(
            dst / 'gtFine/cityscapes_panoptic_val' / ann['file_name'])))
        raw = f['instance_ids'].astype(np.int64)
        evaluated = ~np.isin(np.where(raw >= 1000, raw // 1000, raw),
                             [k for k, lab in labels.id2label.items()
                              if lab.ignoreInEval])
        np.testing.assert_array_equal(ids, np.where(evaluated, raw, 0))
        for s in ann['segments_info']:
            assert s['category_id'] == (s['id'] // 1000 if s['id'] >= 1000
                                        else s['id'])
            assert s['iscrowd'] == int(s['id'] < 1000 and
                                       labels.id2label[s['id']].hasInstances)
    inst = json.loads((dst / 'annotations/'
                       'instancesonly_filtered_gtFine_val.json').read_text())
    images = {im['id']: im for im in inst['images']}
    assert len(images) == 2
    n = 0
    for a in inst['annotations']:
        im = images[a['image_id']]
        f = next(x for x in video['frames']
                 if x['image'].endswith(im['file_name']))
        mask = mask_utils.decode(a['segmentation']).astype(bool)
        values = np.unique(f['instance_ids'][mask])
        assert len(values) == 1
        np.testing.assert_array_equal(mask, f['instance_ids'] == values[0])
        assert a['iscrowd'] == int(values[0] < 1000)
        assert a['category_id'] == (values[0] // 1000 if values[0] >= 1000
                                    else values[0])
        n += 1
    assert n > 0


def test_idempotent_and_bad_input(prepared, tmp_path):
    m, dst, _ = prepared
    before = tree_hash(dst)
    src = dst.parent / 'raw'
    assert run_tool(SCRIPT, '--src', src, '--dst', dst).returncode == 0
    assert tree_hash(dst) == before
    broken = tmp_path / 'raw'
    shutil.copytree(src, broken)
    victim = m['videos'][0]['frames'][0]['instance_label'].split('/raw/')[1]
    (broken / victim).unlink()
    line = one_line_error(run_tool(SCRIPT, '--src', broken, '--dst',
                                   tmp_path / 'out'))
    assert victim in line and 'missing' in line
