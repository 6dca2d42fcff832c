"""tools/dataset/check_data.py: usable trees pass, broken files are named.

The tool is run in-process (``main(argv)``): a subprocess would pay the
mmdet import of ``knet.datasets`` again.
"""
import importlib.util
import json
import shutil

import numpy as np
import pytest
from PIL import Image

try:
    from _data_helpers import REPO, run_tool
except ImportError:  # tests/tools became a package
    from tests.tools._data_helpers import REPO, run_tool
from knet.datasets.synthetic import make_synthetic
from knet.utils.cli import run_cli

SCRIPT = 'tools/dataset/check_data.py'
SIZE = (24, 40)


def _main():
    path = REPO / SCRIPT
    spec = importlib.util.spec_from_file_location('check_data_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def check(capsys, *argv):
    rc = _main()([str(a) for a in argv])
    return rc, capsys.readouterr().out


def _corrupt(path):
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + b'\x00garbage' * 8)


@pytest.fixture(scope='module')
def kitti(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('kitti_check')
    make_synthetic('kitti-step', tmp / 'raw', videos=3, frames=3, size=SIZE,
                   seed=2)
    proc = run_tool('scripts/kitti_step_prepare.py', '--src', tmp / 'raw',
                    '--dst', tmp / 'ks', '--mode', 'copy')
    assert proc.returncode == 0, proc.stderr
    return tmp


def test_kitti_ok(kitti, capsys):
    rc, out = check(capsys, 'kitti-step', '--root', kitti / 'ks', '--full')
    assert rc == 0, out
    assert 'train frames: 6' in out and 'val sequences: 1' in out
    assert 'OK' in out
    # the raw download is recognised and the fix command named
    rc, out = check(capsys, 'kitti-step', '--root', kitti / 'raw')
    assert rc == 1 and 'kitti_step_prepare.py' in out


def test_kitti_broken_files_are_named(kitti, tmp_path, capsys):
    root = tmp_path / 'ks'
    shutil.copytree(kitti / 'ks', root)
    train = root / 'video_sequence' / 'train'
    (train / '000000_000001_leftImg8bit.png').unlink()  # deleted frame
    _corrupt(train / '000001_000002_panoptic.png')  # corrupted PNG
    pan = train / '000001_000000_panoptic.png'  # illegal label value
    arr = np.array(Image.open(pan))
    arr[0, 0, 0] = 30
    Image.fromarray(arr).save(pan)
    rc, out = check(capsys, 'kitti-step', '--root', root, '--full')
    assert rc == 1
    errors = [ln for ln in out.splitlines() if ln.startswith('ERROR')]
    assert any('000000_000001_leftImg8bit.png' in e and 'missing' in e
               for e in errors)
    assert any('000001_000002_panoptic.png' in e and 'decode' in e
               for e in errors)
    assert any('000001_000000_panoptic.png' in e and '30' in e
               for e in errors)
    # a frame missing together with its label leaves a gap
    (train / '000000_000001_panoptic.png').unlink()
    rc, out = check(capsys, 'kitti-step', '--root', root)
    assert rc == 1 and '000000_000001_leftImg8bit.png: missing' in out


def test_vipseg(tmp_path, capsys):
    m = make_synthetic('vipseg', tmp_path / 'v', videos=2, frames=3,
                       size=SIZE, seed=1, test_videos=1)
    rc, out = check(capsys, 'vipseg', '--root', tmp_path / 'v', '--full')
    assert rc == 0, out
    assert 'train videos: 1' in out and 'test frames: 3' in out
    train, val = m['videos'][0], m['videos'][1]
    import os
    os.unlink(train['frames'][1]['label'])  # deleted panomask
    _corrupt(__import__('pathlib').Path(train['frames'][2]['image']))
    arr = val['frames'][0]['panomask'].copy()
    arr[0, 0] = 13000  # category 129 does not exist
    arr[0, 1] = 150  # 'wall' (stuff) with an instance number: a warning
    Image.fromarray(arr).save(val['frames'][0]['label'])
    rc, out = check(capsys, 'vipseg', '--root', tmp_path / 'v', '--full')
    assert rc == 1
    name = lambda p: os.path.basename(p)  # noqa: E731
    errors = [ln for ln in out.splitlines() if ln.startswith('ERROR')]
    assert any(name(train['frames'][1]['label']) in e and 'missing' in e
               for e in errors)
    assert any(name(train['frames'][2]['image']) in e and 'decode' in e
               for e in errors)
    assert any(name(val['frames'][0]['label']) in e and '13000' in e
               for e in errors)
    # (the value, not a digit run of pytest's numbered tmp folder)
    assert not any('150' in e.replace(str(tmp_path), '') for e in errors)
    assert any(name(val['frames'][0]['label']) in w and '150' in w
               for w in out.splitlines() if w.startswith('warning'))


def test_youtube_vis(tmp_path, capsys):
    m = make_synthetic('youtube_vis_2021', tmp_path / 'y', videos=2,
                       frames=2, size=SIZE, seed=1)
    rc, out = check(capsys, 'youtube_vis_2021', '--root', tmp_path / 'y')
    assert rc == 1 and 'youtubevis2coco.py' in out  # not converted yet
    proc = run_tool('tools/dataset/youtubevis2coco.py', '-i', tmp_path / 'y',
                    '-o', tmp_path / 'y' / 'annotations', '--version',
                    '2021')
    assert proc.returncode == 0, proc.stderr
    rc, out = check(capsys, 'youtube_vis_2021', '--root', tmp_path / 'y',
                    '--full')
    assert rc == 0, out
    # converted with the wrong --version: the class list does not match
    proc = run_tool('tools/dataset/youtubevis2coco.py', '-i', tmp_path / 'y',
                    '-o', tmp_path / 'y' / 'annotations', '--version',
                    '2019')
    assert proc.returncode == 0 and 'wrong --version' in proc.stderr
    rc, out = check(capsys, 'youtube_vis_2019', '--root', tmp_path / 'y')
    assert rc == 1 and 'wrong --version' in out
    frame = m['videos'][1]['frames'][1]['image']
    import os
    os.unlink(frame)
    rc, out = check(capsys, 'youtube_vis_2021', '--root', tmp_path / 'y',
                    '--full')
    assert rc == 1 and os.path.basename(frame) in out


def test_cityscapes(tmp_path, capsys):
    m = make_synthetic('cityscapes', tmp_path / 'raw', videos=2, frames=2,
                       size=SIZE, seed=1)
    assert run_tool('tools/dataset/cityscapes_prepare.py', '--src',
                    tmp_path / 'raw', '--dst', tmp_path / 'cs').returncode == 0
    rc, out = check(capsys, 'cityscapes', '--root', tmp_path / 'cs',
                    '--full')
    assert rc == 0, out
    f = m['videos'][0]['frames'][0]
    rel = f['label'].split('/raw/')[1].replace('labelIds', 'labelTrainIds')
    arr = np.array(Image.open(tmp_path / 'cs' / rel))
    arr[0, 0] = 19
    Image.fromarray(arr).save(tmp_path / 'cs' / rel)
    rc, out = check(capsys, 'cityscapes', '--root', tmp_path / 'cs',
                    '--full')
    assert rc == 1 and rel.split('/')[-1] in out and '19' in out


def test_cityscapes_vps_and_coco(tmp_path, capsys):
    m = make_synthetic('cityscapes-vps', tmp_path / 'c', videos=2, frames=2,
                       size=SIZE, seed=1)
    rc, out = check(capsys, 'cityscapes_vps', '--root', tmp_path / 'c',
                    '--full')
    assert rc == 0, out
    lab = m['videos'][0]['frames'][1]['label']
    _corrupt(__import__('pathlib').Path(lab))
    rc, out = check(capsys, 'cityscapes-vps', '--root', tmp_path / 'c',
                    '--full')
    assert rc == 1 and lab.split('/')[-1] in out
    m = make_synthetic('coco_panoptic', tmp_path / 'coco', videos=2,
                       frames=2, size=SIZE, seed=1)
    rc, out = check(capsys, 'coco', '--root', tmp_path / 'coco', '--full')
    assert rc == 0, out
    data = json.loads((tmp_path / 'coco/annotations/panoptic_val2017.json')
                      .read_text())
    data['annotations'][0]['segments_info'] = \
        data['annotations'][0]['segments_info'][1:]
    (tmp_path / 'coco/annotations/panoptic_val2017.json').write_text(
        json.dumps(data))
    rc, out = check(capsys, 'coco', '--root', tmp_path / 'coco', '--full')
    assert rc == 1 and data['annotations'][0]['file_name'] in out


def test_bad_invocations(tmp_path, capsys):
    assert run_cli(_main(), ['no-such-dataset', '--root',
                             str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1
    assert 'no-such-dataset' in err
    assert run_cli(_main(), ['vipseg', '--root',
                             str(tmp_path / 'absent')]) == 1
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'absent: no such folder' in err
