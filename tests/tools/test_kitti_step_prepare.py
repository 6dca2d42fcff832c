"""scripts/kitti_step_prepare.py on synthetic official KITTI-STEP data."""
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

try:
    from _data_helpers import one_line_error, run_tool, tree_hash
except ImportError:  # tests/tools became a package
    from tests.tools._data_helpers import one_line_error, run_tool, tree_hash
from knet.datasets.synthetic import make_synthetic

SCRIPT = 'scripts/kitti_step_prepare.py'


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp('kitti_raw')
    m = make_synthetic('kitti-step', root, videos=3, frames=2,
                       size=(24, 40), seed=5, test_videos=1)
    return root, m


@pytest.mark.parametrize('mode', ['copy', 'link'])
def test_prepare_pixel_exact_and_source_untouched(raw, tmp_path, mode):
    src, m = raw
    before = tree_hash(src)
    dst = tmp_path / 'kitti-step'
    proc = run_tool(SCRIPT, '--src', src, '--dst', dst, '--mode', mode)
    assert proc.returncode == 0, proc.stderr
    assert tree_hash(src) == before
    vs = dst / 'video_sequence'
    names = {s: sorted(p.name for p in (vs / s).iterdir())
             for s in ('train', 'val', 'test')}
    assert len(names['train']) == 2 * 2 * 2  # 2 seqs x 2 frames x 2 files
    assert names['val'] == ['000002_000000_leftImg8bit.png',
                            '000002_000000_panoptic.png',
                            '000002_000001_leftImg8bit.png',
                            '000002_000001_panoptic.png']
    assert names['test'] == ['000000_000000_leftImg8bit.png',
                             '000000_000001_leftImg8bit.png']
    for video in m['videos']:
        if video['split'] == 'test':
            continue
        for f in video['frames']:
            stem = vs / video['split'] / f'{video["sequence"]:06d}_' \
                f'{f["frame"]:06d}'
            pan = Path(f'{stem}_panoptic.png')
            assert pan.is_symlink() == (mode == 'link')
            rgb = np.array(Image.open(pan)).astype(np.int64)
            np.testing.assert_array_equal(rgb[..., 0], f['semantic'])
            np.testing.assert_array_equal(rgb[..., 1] * 256 + rgb[..., 2],
                                          f['instance'])
            img = np.array(Image.open(f'{stem}_leftImg8bit.png'))
            np.testing.assert_array_equal(img,
                                          np.array(Image.open(f['image'])))
    # idempotent: a second run writes nothing new and changes nothing
    out_before = tree_hash(dst)
    proc = run_tool(SCRIPT, '--src', src, '--dst', dst, '--mode', mode)
    assert proc.returncode == 0 and '(0 files written' in proc.stdout
    assert tree_hash(dst) == out_before
    assert not [p for p in dst.rglob('.tmp_*')]


def test_missing_label_frame_is_one_line_error(raw, tmp_path):
    src, _ = raw
    broken = tmp_path / 'raw'
    # a linked copy of the raw tree without one panoptic map
    for p in src.rglob('*.png'):
        q = broken / p.relative_to(src)
        q.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(p, q)
    (broken / 'panoptic_maps/val/0002/000001.png').unlink()
    proc = run_tool(SCRIPT, '--src', broken, '--dst', tmp_path / 'out')
    line = one_line_error(proc)
    assert 'panoptic_maps/val/0002/000001.png' in line
    assert not (tmp_path / 'out').exists()


def test_bad_src_and_dst_inside_src(raw, tmp_path):
    src, _ = raw
    line = one_line_error(run_tool(SCRIPT, '--src', tmp_path / 'none',
                                   '--dst', tmp_path / 'o'))
    assert 'none' in line
    (tmp_path / 'empty').mkdir()
    line = one_line_error(run_tool(SCRIPT, '--src', tmp_path / 'empty',
                                   '--dst', tmp_path / 'o'))
    assert 'training/image_02' in line
    line = one_line_error(run_tool(SCRIPT, '--src', src, '--dst',
                                   src / 'out'))
    assert '--dst' in line and 'inside the input folder' in line
