"""tools/eval_vis.py and the YouTube-VIS writer: hand-computed AP, round
trip, one-line errors."""
import json
import zipfile

import numpy as np
import pytest

from knet.evaluation.writers.youtube_vis import write_youtube_vis_results
from knet.formats.coco_mask import encode_rle
from knet.utils.cli import run_cli

from ._tools import load_tool

eval_vis = load_tool('eval_vis.py')
H, W, T = 10, 10, 2


def _mask(rows, cols):
    m = np.zeros((H, W), bool)
    m[rows, cols] = True
    return m


def _gt(tmp_path):
    """One video of 2 frames: a cat-1 object (frames 0, 1), a cat-2 object
    present only in frame 0 (5 x 5 = 25 px)."""
    a = [_mask(slice(0, 4), slice(0, 4)), _mask(slice(1, 5), slice(0, 4))]
    b = [_mask(slice(5, 10), slice(5, 10)), None]
    anns = []
    for i, (cat, masks) in enumerate(((1, a), (2, b))):
        anns.append(dict(id=i + 1, video_id=1, category_id=cat, iscrowd=0,
                         segmentations=[encode_rle(m) if m is not None
                                        else None for m in masks],
                         areas=[int(m.sum()) if m is not None else None
                                for m in masks],
                         bboxes=[None, None], height=H, width=W))
    gt = dict(videos=[dict(id=1, width=W, height=H, length=T,
                           file_names=['v/0.jpg', 'v/1.jpg'])],
              categories=[dict(id=1, name='a'), dict(id=2, name='b')],
              annotations=anns)
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(gt))
    return path, a, b


class _Tracks:
    """Official result entries built track by track; ``close`` writes them
    with :func:`write_youtube_vis_results`."""

    def __init__(self, out_dir):
        self.out_dir, self.results = out_dir, []

    def add_track(self, video_id, category_id, score, masks):
        """``masks``: one per frame, a binary mask or None (absent)."""
        segs = [encode_rle(m) if m is not None and m.any() else None
                for m in masks]
        self.results.append(dict(video_id=video_id, category_id=category_id,
                                 score=score, segmentations=segs))

    def close(self):
        return write_youtube_vis_results(self.results, self.out_dir)


def _run(gt, res, out):
    return run_cli(eval_vis.main, ['--gt', str(gt), '--results', str(res),
                                   '--out', str(out)])


def test_round_trip_ap_is_one(tmp_path):
    gt, a, b = _gt(tmp_path)
    w = _Tracks(tmp_path / 'res')
    w.add_track(1, 1, 0.9, a)
    w.add_track(1, 2, 0.8, b)
    z = w.close()
    with zipfile.ZipFile(z) as f:
        assert f.namelist() == ['results.json']
    res = json.loads((tmp_path / 'res' / 'results.json').read_text())
    assert [len(r['segmentations']) for r in res] == [2, 2]
    assert res[1]['segmentations'][1] is None  # absent -> null
    assert _run(gt, z, tmp_path / 'o.json') == 0
    out = json.loads((tmp_path / 'o.json').read_text())
    for k in ('AP', 'AP50', 'AP75', 'AR1', 'AR10'):
        assert out[k] == pytest.approx(1.0)


def test_hand_computed_ap(tmp_path):
    gt, a, b = _gt(tmp_path)
    # cat 2 predicted on 17 of its 25 px: IoU 0.68 -> matched at the IoU
    # thresholds 0.50, 0.55, 0.60, 0.65 (4 of 10): AP 0.4 for cat 2.
    pb = np.zeros((H, W), bool)
    pb[5:10, 5:10] = True
    pb[9, 7:10] = False
    pb[8, 7:10] = False
    pb[7, 8:10] = False
    assert (pb & b[0]).sum() == 17 and pb.sum() == 17
    w = _Tracks(tmp_path / 'res')
    w.add_track(1, 1, 0.9, a)
    w.add_track(1, 2, 0.8, [pb, None])
    w.close()
    assert _run(gt, tmp_path / 'res' / 'results.json',
                tmp_path / 'o.json') == 0
    out = json.loads((tmp_path / 'o.json').read_text())
    assert out['AP'] == pytest.approx((1.0 + 0.4) / 2)
    assert out['AP50'] == pytest.approx(1.0)
    assert out['AP75'] == pytest.approx(0.5)
    assert out['AR1'] == pytest.approx(0.7)
    assert out['AR10'] == pytest.approx(0.7)


@pytest.mark.parametrize('mutate,words', [
    (lambda r: r[0]['segmentations'].pop(),
     'result 0.segmentations: has 1 entries for the 2 frames'),
    (lambda r: r[0].update(video_id=7), 'video_id: unknown video id 7'),
    (lambda r: r[0].update(category_id=9),
     'category_id: unknown category id 9'),
    (lambda r: r[0].update(category_id=1.0), 'expected an integer'),
    (lambda r: r[0]['segmentations'][1].update(counts='o0o0'),
     'segmentations[1].counts: invalid RLE counts'),
])
def test_bad_results_one_line(tmp_path, capsys, mutate, words):
    gt, a, b = _gt(tmp_path)
    res = [dict(video_id=1, category_id=1, score=0.5,
                segmentations=[encode_rle(m) for m in a])]
    mutate(res)
    path = tmp_path / 'res.json'
    path.write_text(json.dumps(res))
    assert _run(gt, path, tmp_path / 'o.json') == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and words in err[0]


def test_synthetic_round_trip_and_broken_json(tmp_path, capsys):
    from knet.datasets.synthetic import make_synthetic
    m = make_synthetic('youtube_vis_2019', tmp_path / 'yt', videos=2,
                       frames=3, size=(32, 48), seed=0)
    gt = json.loads(open(m['train_json']).read())
    w = _Tracks(tmp_path / 'res')
    for video in m['videos']:
        if video['split'] != 'train':
            continue
        vid = [v['id'] for v in gt['videos']
               if v['file_names'][0].startswith(video['name'])][0]
        for tid, cls in video['things'].items():
            w.add_track(vid, cls, 0.9,
                        [f['instance'] == tid for f in video['frames']])
    z = w.close()
    assert _run(m['train_json'], z, tmp_path / 'o.json') == 0
    out = json.loads((tmp_path / 'o.json').read_text())
    for k in ('AP', 'AP50', 'AP75', 'AR10'):
        assert out[k] == pytest.approx(1.0)
    bad = tmp_path / 'bad.json'
    bad.write_text('[{"video_id": 1,')
    assert _run(m['train_json'], bad, tmp_path / 'o2.json') == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0]
