"""Referring metrics (hand-computed values) and tools/eval_refer.py."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from knet.evaluation.functional.referring import (
    box_accuracy, box_iou_xywh, mask_intersection_union, mask_iou_metrics)
from knet.evaluation.offline.referring import evaluate_refer

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_box_iou_by_hand():
    pred = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10],
            [3, 3, 0, 0]]
    gt = [[5, 0, 10, 10], [0, 0, 10, 10], [20, 20, 5, 5], [2, 2, 4, 4],
          [3, 3, 0, 0]]
    # 50 / 150, identical, disjoint, 16 / 100 (contained), empty boxes
    np.testing.assert_allclose(box_iou_xywh(pred, gt),
                               [1 / 3, 1.0, 0.0, 0.16, 0.0])
    with pytest.raises(ValueError):
        box_iou_xywh([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])


def test_box_accuracy_threshold_is_inclusive():
    # IoU exactly 0.5 (50 / 100) counts as a hit; 1/3 does not
    pred = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    gt = [[0, 0, 5, 10], [5, 0, 10, 10], [0.0, 0.0, 10.0, 10.0]]
    assert box_accuracy(pred, gt) == pytest.approx(2 / 3)
    assert box_accuracy(pred, gt, iou_thr=0.3) == 1.0
    assert box_accuracy(np.zeros((0, 4)), np.zeros((0, 4))) == 0.0


def test_mask_metrics_by_hand():
    p1 = np.zeros((4, 4), bool)
    p1[0, :4] = True          # 4 pixels
    g1 = np.zeros((4, 4), bool)
    g1[0, 2:] = True
    g1[1, 2:] = True          # 4 pixels, 2 shared -> I 2, U 6
    p2 = np.zeros((4, 4), bool)
    p2[3, :3] = True          # identical -> I 3, U 3
    assert mask_intersection_union(p1, g1) == (2, 6)
    assert mask_intersection_union(p2, p2.astype(np.uint8)) == (3, 3)
    m = mask_iou_metrics([2, 3], [6, 3])
    assert m['count'] == 2
    assert m['overall_iou'] == pytest.approx(5 / 9)
    assert m['mean_iou'] == pytest.approx((1 / 3 + 1) / 2)
    assert m['precision@0.5'] == 0.5 and m['precision@0.9'] == 0.5
    # an empty prediction on an empty target is right by default
    m = mask_iou_metrics([0, 1], [0, 2], thresholds=(0.5,))
    assert m['mean_iou'] == pytest.approx(0.75)
    assert m['overall_iou'] == pytest.approx(0.5)
    assert mask_iou_metrics([0], [0], empty_iou=0.0)['mean_iou'] == 0.0
    with pytest.raises(ValueError):
        mask_iou_metrics([3], [2])
    with pytest.raises(ValueError):
        mask_intersection_union(np.zeros((2, 2)), np.zeros((2, 3)))


# ------------------------------------------------------------------ the CLI


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'eval_refer', osp.join(REPO, 'tools', 'eval_refer.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def refcoco(tmp_path_factory):
    pytest.importorskip('pycocotools')
    from knet.datasets.refer import REFER
    from knet.datasets.synthetic.refer import make_refer
    root = tmp_path_factory.mktemp('evalrefer')
    make_refer('refcoco', root, videos=1, frames=6, seed=4)
    return root, REFER(str(root), 'refcoco', 'unc')


def _rle(mask):
    from pycocotools import mask as mask_api
    r = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {'size': [int(s) for s in r['size']],
            'counts': r['counts'].decode()}


def _run(tool, argv, capsys):
    rc = tool.run_cli(tool.main, argv)
    return rc, capsys.readouterr()


def test_eval_refer_perfect_and_shifted(refcoco, tmp_path, capsys):
    root, refer = refcoco
    tool = _load_tool()
    ref_ids = refer.getRefIds(split='testA')
    preds, shifted = [], []
    for rid in ref_ids:
        ref = refer.Refs[rid]
        x, y, w, h = refer.getRefBox(rid)
        mask = refer.getMask(ref)['mask']
        for s in ref['sentences']:
            preds.append({'sent_id': s['sent_id'], 'bbox': [x, y, w, h],
                          'segmentation': _rle(mask)})
            # half-width shift: IoU = (w/2) / (3w/2) = 1/3 -> a miss
            shifted.append({'sent_id': s['sent_id'],
                            'bbox': [x + w / 2, y, w, h]})
    pred_file = tmp_path / 'pred.json'
    pred_file.write_text(json.dumps(preds))
    out_file = tmp_path / 'm.json'
    rc, cap = _run(tool, ['--data-root', str(root), '--dataset', 'refcoco',
                          '--split-by', 'unc', '--split', 'testA', '--pred',
                          str(pred_file), '--out', str(out_file)], capsys)
    assert rc == 0, cap.err
    m = json.loads(out_file.read_text())
    assert m['count'] == len(preds) and m['unit'] == 'sentence'
    assert m['box_acc@0.5'] == 1.0 and m['mask_overall_iou'] == 1.0
    assert m['mask_mean_iou'] == 1.0 and m['precision@0.9'] == 1.0
    assert m['missing'] == 0 and m['ignored'] == 0

    # shifted boxes, one prediction dropped, one for another split
    n = len(shifted)
    other = refer.Refs[refer.getRefIds(split='train')[0]]
    shifted = shifted[1:] + [{'sent_id': other['sentences'][0]['sent_id'],
                              'bbox': [0, 0, 1, 1]}]
    pred_file.write_text(json.dumps({'predictions': shifted}))
    result = evaluate_refer(refer, 'testA', shifted)
    assert result['box_acc@0.5'] == 0.0
    assert result['box_mean_iou'] == pytest.approx((n - 1) / 3 / n)
    assert result['missing'] == 1 and result['ignored'] == 1
    assert 'mask_overall_iou' not in result


def test_eval_refer_per_ref_masks(refcoco):
    """One prediction per ref; masks as polygons; hand-made IoU."""
    _, refer = refcoco
    ref_ids = refer.getRefIds(split='val')
    entries, inter, union = [], 0, 0
    for rid in ref_ids:
        ref = refer.Refs[rid]
        img = refer.Imgs[ref['image_id']]
        gt = refer.getMask(ref)['mask'].astype(bool)
        # predict the rectangle rows 0..9, cols 0..19 (integer polygon)
        pm = np.zeros((img['height'], img['width']), bool)
        pm[0:10, 0:20] = True
        entries.append({'ref_id': rid,
                        'segmentation': [[0, 0, 20, 0, 20, 10, 0, 10]]})
        inter += int((pm & gt).sum())
        union += int((pm | gt).sum())
    result = evaluate_refer(refer, 'val', entries)
    assert result['unit'] == 'ref' and result['count'] == len(ref_ids)
    assert result['mask_overall_iou'] == pytest.approx(inter / union)


def test_eval_refer_bad_input_one_line(refcoco, tmp_path, capsys):
    root, refer = refcoco
    tool = _load_tool()
    base = ['--data-root', str(root), '--dataset', 'refcoco', '--split-by',
            'unc', '--split', 'val', '--pred']
    bad = tmp_path / 'bad.json'
    bad.write_text('{"predictions": ')
    rc, cap = _run(tool, base + [str(bad)], capsys)
    assert rc == 1 and cap.err.count('\n') == 1
    assert str(bad) in cap.err and 'not valid JSON' in cap.err
    sid = refer.Refs[refer.getRefIds(split='val')[0]]['sentences'][0][
        'sent_id']
    bad.write_text(json.dumps([{'sent_id': sid, 'bbox': [0, 0, 1, 1]}] * 2))
    rc, cap = _run(tool, base + [str(bad)], capsys)
    assert rc == 1 and 'two predictions for sent_id' in cap.err
    bad.write_text(json.dumps([{'sent_id': sid, 'bbox': [1, 1]}]))
    rc, cap = _run(tool, base + [str(bad)], capsys)
    assert rc == 1 and 'bbox must be' in cap.err
    bad.write_text(json.dumps([{'sent_id': sid, 'bbox': [0, 0, 1, 1]}]))
    rc, cap = _run(tool, base[:-3] + ['--split', 'testZ', '--pred',
                                      str(bad)], capsys)
    assert rc == 1 and "no such split 'testZ'" in cap.err
    assert cap.err.count('\n') == 1


def test_eval_refer_subprocess(refcoco, tmp_path):
    """As a script: a data root without the refs pickle gives one line
    naming the file and exit 1, no traceback."""
    _, refer = refcoco
    rid = refer.getRefIds(split='val')[0]
    pred = tmp_path / 'p.json'
    pred.write_text(json.dumps([{'ref_id': rid,
                                 'bbox': refer.getRefBox(rid)}]))
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'eval_refer.py'),
         '--data-root', str(tmp_path / 'nowhere'), '--dataset', 'refcoco',
         '--split-by', 'unc', '--split', 'val', '--pred', str(pred)],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.count('\n') == 1 and 'Traceback' not in proc.stderr
    assert '--data-root' in proc.stderr and 'nowhere' in proc.stderr


def test_eval_refer_prints_table(refcoco, tmp_path, capsys):
    root, refer = refcoco
    tool = _load_tool()
    rid = refer.getRefIds(split='val')[0]
    pred = tmp_path / 'p.json'
    pred.write_text(json.dumps([{'ref_id': rid,
                                 'bbox': refer.getRefBox(rid)}]))
    rc, cap = _run(tool, ['--data-root', str(root), '--dataset', 'refcoco',
                          '--split-by', 'unc', '--split', 'val', '--pred',
                          str(pred)], capsys)
    assert rc == 0, cap.err
    lines = dict(line.split(None, 1) for line in cap.out.splitlines())
    n = len(refer.getRefIds(split='val'))
    assert float(lines['box_acc@0.5']) == pytest.approx(100 / n, abs=0.01)
    assert lines['missing'] == str(n - 1) and lines['unit'] == 'ref'
