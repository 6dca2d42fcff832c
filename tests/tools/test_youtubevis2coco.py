"""tools/dataset/youtubevis2coco.py on synthetic official YouTube-VIS."""
import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

try:
    from _data_helpers import one_line_error, run_tool, tree_hash
except ImportError:  # tests/tools became a package
    from tests.tools._data_helpers import one_line_error, run_tool, tree_hash
from knet.datasets.synthetic import make_synthetic

SCRIPT = 'tools/dataset/youtubevis2coco.py'


@pytest.fixture(scope='module', params=['2019', '2021'])
def raw(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f'ytvis{request.param}')
    m = make_synthetic(f'youtube_vis_{request.param}', root, videos=3,
                       frames=3, size=(24, 40), seed=11)
    return request.param, root, m


def _load(path):
    return json.loads(path.read_text())


def test_convert_pixel_exact_and_source_untouched(raw, tmp_path):
    version, root, m = raw
    before = tree_hash(root)
    proc = run_tool(SCRIPT, '-i', m['ann_dir'], '-o', tmp_path, '--version',
                    version)
    assert proc.returncode == 0, proc.stderr
    assert tree_hash(root) == before
    assert 'no test annotations' in proc.stderr  # skipped with a warning
    assert not (tmp_path / f'youtube_vis_{version}_test.json').exists()
    train = _load(tmp_path / f'youtube_vis_{version}_train.json')
    valid = _load(tmp_path / f'youtube_vis_{version}_valid.json')
    assert len(valid['videos']) == 1 and valid['annotations'] == []
    assert len(train['videos']) == 3 and len(train['images']) == 9
    truth = {v['id']: v for v in m['videos'] if v['split'] == 'train'}
    images = {im['id']: im for im in train['images']}
    for im in train['images']:
        video = truth[im['video_id']]
        assert im['file_name'] == f'{video["name"]}/{5 * im["frame_id"]:05d}' \
            '.jpg'
    # one annotation per non-empty frame of each track
    expected = sum(int((f['instance'] == tid).any())
                   for v in truth.values() for f in v['frames']
                   for tid in v['things'])
    assert len(train['annotations']) == expected
    track_of = {}
    for a in train['annotations']:
        im = images[a['image_id']]
        f = truth[im['video_id']]['frames'][im['frame_id']]
        mask = mask_utils.decode(mask_utils.frPyObjects(
            a['segmentation'], im['height'], im['width'])).astype(bool)
        # the painted track whose pixels these are
        tids = np.unique(f['instance'][mask])
        assert len(tids) == 1
        np.testing.assert_array_equal(mask, f['instance'] == tids[0])
        assert a['category_id'] == truth[im['video_id']]['things'][
            int(tids[0])]
        assert a['area'] == mask.sum() and a['iscrowd'] == 0
        key = (im['video_id'], int(tids[0]))
        assert track_of.setdefault(key, a['instance_id']) == a['instance_id']
    # instance ids are unique across videos and numbered from 1
    assert sorted(set(track_of.values())) == \
        list(range(1, len(track_of) + 1))


def test_holdout(raw, tmp_path):
    version, root, m = raw
    proc = run_tool(SCRIPT, '-i', m['ann_dir'], '-o', tmp_path, '--version',
                    version, '--holdout', 1, '--seed', 3)
    assert proc.returncode == 0, proc.stderr
    pre = f'youtube_vis_{version}'
    full = _load(tmp_path / f'{pre}_train.json')
    sub = _load(tmp_path / f'{pre}_holdout_train.json')
    held = _load(tmp_path / f'{pre}_holdout_val.json')
    rawh = _load(tmp_path / f'{pre}_holdout_val_raw.json')
    ids = lambda d: {v['id'] for v in d['videos']}  # noqa: E731
    assert len(ids(held)) == 1 and ids(sub) | ids(held) == ids(full)
    assert not ids(sub) & ids(held)
    assert ids(rawh) == ids(held)
    official = _load(__import__('pathlib').Path(m['train_json']))
    want = [a for a in official['annotations']
            if a['video_id'] in ids(held)]
    assert rawh['annotations'] == want
    assert rawh['categories'] == official['categories']
    n_full = len(full['annotations'])
    assert len(sub['annotations']) + len(held['annotations']) == n_full


def test_bad_inputs(tmp_path):
    line = one_line_error(run_tool(SCRIPT, '-i', tmp_path / 'nope', '-o',
                                   tmp_path / 'o', '--version', '2019'))
    assert 'nope' in line
    (tmp_path / 'empty').mkdir()
    line = one_line_error(run_tool(SCRIPT, '-i', tmp_path / 'empty', '-o',
                                   tmp_path / 'o', '--version', '2019'))
    assert 'train.json' in line
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'train.json').write_text('{"videos": [')
    line = one_line_error(run_tool(SCRIPT, '-i', tmp_path / 'bad', '-o',
                                   tmp_path / 'o', '--version', '2019'))
    assert 'train.json' in line and 'JSON' in line


def test_holdout_too_large(raw, tmp_path):
    version, _, m = raw
    line = one_line_error(run_tool(SCRIPT, '-i', m['ann_dir'], '-o',
                                   tmp_path, '--version', version,
                                   '--holdout', 3))
    assert '--holdout' in line
