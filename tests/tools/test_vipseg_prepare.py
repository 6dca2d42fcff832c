"""tools/dataset/vipseg_prepare.py on a synthetic original VIPSeg download."""
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

try:
    from _data_helpers import one_line_error, run_tool, tree_hash
except ImportError:  # tests/tools became a package
    from tests.tools._data_helpers import one_line_error, run_tool, tree_hash
from knet.datasets.synthetic import make_synthetic

SCRIPT = 'tools/dataset/vipseg_prepare.py'
H, W, S = 40, 64, 24


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp('vipseg_raw')
    m = make_synthetic('vipseg', root, videos=2, frames=2, size=(H, W),
                       seed=4, layout='original', test_videos=1)
    return root, m


def _nearest(a, out_h, out_w):
    """Independent nearest-neighbour resize (pixel centres)."""
    rows = np.floor((np.arange(out_h) + 0.5) * a.shape[0] / out_h).astype(int)
    cols = np.floor((np.arange(out_w) + 0.5) * a.shape[1] / out_w).astype(int)
    return a[rows][:, cols]


def test_prepare_pixel_exact(raw, tmp_path):
    src, m = raw
    before = tree_hash(src)
    dst = tmp_path / 'VIPSeg'
    proc = run_tool(SCRIPT, '--src', src, '--dst', dst, '--short-side', S)
    assert proc.returncode == 0, proc.stderr
    assert tree_hash(src) == before
    out_w = int(S * W / H)  # the official rule: height S, width int(S*w/h)
    for split in ('train', 'val', 'test'):
        assert (dst / f'{split}.txt').read_text().split() == \
            m['splits'][split]
    pan = json.loads((dst / 'panoptic_gt_VIPSeg_val.json').read_text())
    assert [v['video_id'] for v in pan['videos']] == m['splits']['val']
    assert len(pan['categories']) == 124
    for video in m['videos']:
        for f in video['frames']:
            stem = os.path.splitext(os.path.basename(f['image']))[0]
            img = np.array(Image.open(dst / 'images' / video['name'] /
                                      f'{stem}.jpg'))
            assert img.shape == (S, out_w, 3)
            mask_path = dst / 'panomasks' / video['name'] / f'{stem}.png'
            if video['split'] == 'test':
                assert not mask_path.exists()
                continue
            mask = np.array(Image.open(mask_path))
            assert mask.dtype == np.uint16
            np.testing.assert_array_equal(mask, _nearest(f['panomask'], S,
                                                         out_w))
            rgb = np.array(Image.open(dst / 'panomasksRGB' / video['name'] /
                                      f'{stem}.png')).astype(np.int64)
            ids = rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]
            np.testing.assert_array_equal(ids, mask)
    for video_ann in pan['annotations']:
        for ann in video_ann['annotations']:
            mask = np.array(Image.open(dst / 'panomasks' /
                                       video_ann['video_id'] /
                                       ann['file_name']))
            segs = {s['id']: s for s in ann['segments_info']}
            assert set(segs) == set(np.unique(mask).tolist()) - {0}
            for v, s in segs.items():
                assert s['area'] == (mask == v).sum() and s['iscrowd'] == 0
                assert s['category_id'] == (v // 100 - 1 if v >= 125
                                            else v - 1)
    # idempotent
    proc = run_tool(SCRIPT, '--src', src, '--dst', dst, '--short-side', S)
    assert proc.returncode == 0 and '(0 files written)' in proc.stdout


def test_frames_at_target_height_are_copied(raw, tmp_path):
    src, m = raw
    dst = tmp_path / 'same'
    assert run_tool(SCRIPT, '--src', src, '--dst', dst, '--short-side',
                    H).returncode == 0
    f = m['videos'][0]['frames'][0]
    out = dst / 'images' / m['videos'][0]['name'] / os.path.basename(
        f['image'])
    assert out.read_bytes() == open(f['image'], 'rb').read()


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_bad_inputs(raw, tmp_path):
    src, m = raw
    video = m['videos'][0]
    broken = _copy(src, tmp_path / 'missing')
    stem = os.path.splitext(os.path.basename(video['frames'][1]['image']))[0]
    (broken / 'panomasks' / video['name'] / f'{stem}.png').unlink()
    line = one_line_error(run_tool(SCRIPT, '--src', broken, '--dst',
                                   tmp_path / 'o1'))
    assert f'{video["name"]}/{stem}.png' in line and 'missing' in line
    bad = _copy(src, tmp_path / 'illegal')
    path = bad / 'panomasks' / video['name'] / f'{stem}.png'
    arr = np.array(Image.open(path))
    arr[0, 0] = 13000  # category 129 does not exist
    Image.fromarray(arr).save(path)
    line = one_line_error(run_tool(SCRIPT, '--src', bad, '--dst',
                                   tmp_path / 'o2', '--short-side', H))
    assert f'{stem}.png' in line and '13000' in line
    line = one_line_error(run_tool(SCRIPT, '--src', tmp_path / 'none'))
    assert 'none' in line
