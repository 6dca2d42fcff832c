"""knet.evaluation.offline and the framework-free layers: importable
without torch / mmengine / mmdet, and one segment per VIPSeg stuff
category whatever raw values encode it."""
import subprocess
import sys

import numpy as np
import pytest

from knet.evaluation.offline import (evaluate_vipseg, frame_table,
                                     read_vipseg_panomask, vpq_windows,
                                     window_labels)
from knet.evaluation.writers.panoptic_video import PanopticVideoWriter
from knet.formats import VIPSEG_THING_IDS, LabelSpace
from knet.formats.io import save_image

from ._tools import ROOT


def test_pure_layers_import_no_framework():
    code = ('import sys\n'
            'import knet.evaluation.functional, knet.formats\n'
            'import knet.evaluation.offline, knet.evaluation.writers\n'
            'bad = [m for m in ("mmdet", "mmengine", "mmcv", "torch")\n'
            '       if m in sys.modules]\n'
            'assert not bad, bad\n')
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_protocols():
    assert vpq_windows('vipseg') == (1, 2, 4, 6, 8)
    assert vpq_windows('kitti-step', [2]) == (2, )
    assert window_labels('cityscapes-vps', (1, 2, 3, 4)) == \
        ['0', '5', '10', '15']
    assert window_labels('vipseg', (1, 8)) == ['1', '8']
    with pytest.raises(ValueError, match='unknown benchmark'):
        vpq_windows('kitti')


def _vipseg_tree(root, gt, pred_sem):
    """One video of one frame: raw panomask ``gt``, a prediction of the
    categories ``pred_sem`` (stuff only)."""
    save_image(root / 'gt' / 'panomasks' / 'v0' / '000.png',
               gt.astype(np.uint16))
    (root / 'gt' / 'val.txt').write_text('v0\n')
    w = PanopticVideoWriter(root / 'pred', VIPSEG_THING_IDS, 'vipseg')
    w.write('v0', '000.png', pred_sem, np.zeros_like(pred_sem))
    w.close()


def test_vipseg_stuff_values_of_one_category_are_one_segment(tmp_path):
    # 'wall' (category 0, stuff) written as value 1 on the left and as the
    # odd value 150 (150 // 100 - 1 = 0) on the right: the official
    # conversion paints both with the wall colour, one segment.
    gt = np.ones((8, 8), np.int64)
    gt[:, 4:] = 150
    _vipseg_tree(tmp_path, gt, np.zeros((8, 8), np.int64))
    frame = read_vipseg_panomask(
        tmp_path / 'gt' / 'panomasks' / 'v0' / '000.png',
        np.array([c in VIPSEG_THING_IDS for c in range(124)]))
    res = evaluate_vipseg(tmp_path / 'gt', 'val', tmp_path / 'pred',
                          windows=(1, ))
    assert res['VPQ'] == pytest.approx(100.0)
    per = res['VPQ_per_class']['1']['wall']
    assert (per['tp'], per['fp'], per['fn']) == (1, 0, 0)
    # the table has one row for the (wall, wall) pair, all 64 pixels
    g, p, c = frame_table(frame, frame._replace(
        ids=np.ones((8, 8), np.int64), to_keys=None))
    assert len(g) == 1 and c.tolist() == [64]


def test_label_space():
    meta = dict(classes=('car', 'road', 'sky'), thing_classes=('car', ),
                label_ids=(13, 0, 10))
    ls = LabelSpace(meta)
    assert ls.thing_ids == (13, ) and ls.stuff_ids == (0, 10)
    assert ls.num_ids == 14 and ls.names[10] == 'sky'
    out = ls.to_dataset(np.array([[0, 1, 2, 255, -1, 300]]))
    assert out.tolist() == [[13, 0, 10, 255, 255, 255]]
    plain = LabelSpace(dict(classes=('a', 'b')))
    assert plain.label_ids == (0, 1) and plain.thing_ids == ()


def test_parallel_results_equal_serial_bit_for_bit(tmp_path):
    """Chunk states are merged in task order, so a parallel run adds the
    floats exactly as the serial one does."""
    from knet.evaluation.offline import evaluate_kitti_step
    from knet.formats import encode_kitti_step
    rng = np.random.default_rng(0)
    gt_dir = tmp_path / 'gt' / 'video_sequence' / 'val'
    for seq in (2, 6):
        for t in range(7):
            sem = rng.choice(np.array([0, 2, 8, 11, 13, 255], np.uint8),
                             (16, 24))
            inst = np.where(np.isin(sem, (11, 13)),
                            rng.integers(0, 4, sem.shape), 0)
            save_image(gt_dir / f'{seq:06d}_{t:06d}_panoptic.png',
                       encode_kitti_step(sem, inst))
            sem[rng.random(sem.shape) < 0.2] = 8
            save_image(tmp_path / 'pred' / f'{seq:04d}' / f'{t:06d}.png',
                       encode_kitti_step(sem, inst * (1 + (t > 3))))
    args = (tmp_path / 'gt', 'val', tmp_path / 'pred')
    serial = evaluate_kitti_step(*args, workers=1, chunk=2)
    parallel = evaluate_kitti_step(*args, workers=2, chunk=2)
    assert serial == parallel
    assert 0 < serial['STQ'] < 1
