"""KNetCocoPanopticMetric: hand-computed PQ, an independent panopticapi-style
re-implementation, synthetic COCO panoptic round trips and the configs'
evaluators."""
import glob
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip('mmdet')

from knet.formats.io import dump_json, read_image, save_image  # noqa: E402
from knet.formats.panopticapi import id2rgb, rgb2id  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OFFSET = 1000  # mmdet's INSTANCE_OFFSET

# --------------------------------------------------------------------------
# Independent reference: panopticapi's pq_compute written out with per
# segment loops (dicts keyed by segment id, GT areas from the JSON).


def reference_pq(pairs, categories):
    """pairs: [(gt_ids, gt_segments_info, pred_ids, pred_segments_info)];
    categories: {category id: isthing}. Returns (metrics x100, per class)."""
    stat = {c: [0, 0, 0, 0.0] for c in categories}  # tp, fp, fn, iou
    for gt_ids, gt_info, pred_ids, pred_info in pairs:
        gt_segms = {s['id']: dict(s) for s in gt_info}
        pred_segms = {s['id']: dict(s) for s in pred_info}
        for v, n in zip(*np.unique(pred_ids, return_counts=True)):
            if v == 0:
                continue
            pred_segms[int(v)]['area'] = int(n)
        combined = gt_ids.astype(np.uint64) * (1 << 24) + pred_ids
        inter = {}
        for v, n in zip(*np.unique(combined, return_counts=True)):
            inter[(int(v) >> 24, int(v) & ((1 << 24) - 1))] = int(n)
        gt_matched, pred_matched = set(), set()
        for (g, p), n in inter.items():
            if g not in gt_segms or p not in pred_segms:
                continue
            if gt_segms[g]['iscrowd'] == 1:
                continue
            if gt_segms[g]['category_id'] != pred_segms[p]['category_id']:
                continue
            union = pred_segms[p]['area'] + gt_segms[g]['area'] - n - \
                inter.get((0, p), 0)
            iou = n / union
            if iou > 0.5:
                c = gt_segms[g]['category_id']
                stat[c][0] += 1
                stat[c][3] += iou
                gt_matched.add(g)
                pred_matched.add(p)
        crowd = {}
        for g, info in gt_segms.items():
            if g in gt_matched:
                continue
            if info['iscrowd'] == 1:
                crowd[info['category_id']] = g
                continue
            stat[info['category_id']][2] += 1
        for p, info in pred_segms.items():
            if p in pred_matched:
                continue
            n = inter.get((0, p), 0)
            if info['category_id'] in crowd:
                n += inter.get((crowd[info['category_id']], p), 0)
            if n / info['area'] > 0.5:
                continue
            stat[info['category_id']][1] += 1
    out, per_class = {}, {}
    for name, sel in (('', None), ('_th', True), ('_st', False)):
        vals = []
        for c, isthing in categories.items():
            if sel is not None and sel != bool(isthing):
                continue
            tp, fp, fn, iou = stat[c]
            if tp + fp + fn == 0:
                continue
            pq = iou / (tp + 0.5 * fp + 0.5 * fn)
            sq = iou / tp if tp else 0.0
            rq = tp / (tp + 0.5 * fp + 0.5 * fn)
            vals.append((pq, sq, rq))
            per_class[c] = (pq, sq, rq)
        for i, k in enumerate(('PQ', 'SQ', 'RQ')):
            out[k + name] = 100 * float(np.mean([v[i] for v in vals])) \
                if vals else float('nan')
    return out, per_class


def mmdet_to_ids(pan, label2cat, num_classes):
    """mmdet map -> (panopticapi ids: value + 1, 0 void; segments_info)."""
    ids = np.where(pan % OFFSET == num_classes, 0, pan + 1)
    info = [dict(id=int(v), category_id=label2cat[int((v - 1) % OFFSET)])
            for v in np.unique(ids) if v]
    return ids, info


# --------------------------------------------------------------------------
# helpers

CATS = [dict(id=1, name='person', isthing=1), dict(id=3, name='car',
                                                  isthing=1),
        dict(id=10, name='sky', isthing=0), dict(id=11, name='road',
                                                 isthing=0)]
META = dict(classes=('person', 'car', 'sky', 'road'),
            thing_classes=('person', 'car'), stuff_classes=('sky', 'road'))


def write_dataset(root: Path, images, categories=CATS):
    """images: [(image_id, gt id map, segments_info)] -> (ann_file, seg dir)."""
    ann = dict(images=[], annotations=[], categories=categories)
    for img_id, ids, info in images:
        name = f'{img_id:012d}'
        save_image(root / 'panoptic_val2017' / f'{name}.png', id2rgb(ids))
        ann['images'].append(dict(id=img_id, file_name=f'{name}.jpg',
                                  height=ids.shape[0], width=ids.shape[1]))
        ann['annotations'].append(dict(image_id=img_id,
                                       file_name=f'{name}.png',
                                       segments_info=info))
    dump_json(ann, root / 'annotations' / 'panoptic_val2017.json')
    return (str(root / 'annotations' / 'panoptic_val2017.json'),
            str(root / 'panoptic_val2017') + '/')


def sample(img_id, pan):
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import PixelData
    ds = DetDataSample(metainfo=dict(img_id=img_id,
                                     img_path=f'val2017/{img_id:012d}.jpg',
                                     ori_shape=pan.shape))
    ds.pred_panoptic_seg = PixelData(
        sem_seg=torch.as_tensor(pan[None].astype(np.int64)))
    return ds


def evaluate(metric_cfg, meta, preds):
    """Run the metric through mmengine's Evaluator (to_dict + collect)."""
    import knet.evaluation.metrics  # noqa: F401
    from mmdet.registry import METRICS
    from mmengine.evaluator import Evaluator
    evaluator = Evaluator(METRICS.build(dict(metric_cfg)))
    evaluator.dataset_meta = dict(meta)
    for img_id, pan in preds:
        evaluator.process([sample(img_id, pan)])
    out = evaluator.evaluate(len(preds))
    return {k.split('/')[-1]: v for k, v in out.items()}


def seg(id_, cat, crowd=0, area=None):
    return dict(id=id_, category_id=cat, iscrowd=crowd, area=area,
                bbox=[0, 0, 1, 1])


# --------------------------------------------------------------------------
# hand-computed case (one 1 x 40 image)

def hand_case():
    gt = np.zeros(40, np.int64)
    gt[0:10] = 100      # sky
    gt[10:20] = 201     # person A
    gt[20:28] = 299     # crowd person
    gt[28:36] = 300     # road
    # 36..39 void
    info = [seg(100, 10, area=10), seg(201, 1, area=10),
            seg(299, 1, 1, area=8), seg(300, 11, area=8)]
    pred = np.empty(40, np.int64)
    pred[0:9] = 2               # sky, IoU 9/10
    pred[9:15] = 3              # road (also over sky and person A)
    pred[15:20] = 0 + 1 * OFFSET  # person: 5 px of A -> IoU exactly 0.5
    pred[20:28] = 0 + 2 * OFFSET  # person on the crowd region ...
    pred[36] = 0 + 2 * OFFSET     # ... and one void pixel: ignored
    pred[28:36] = 3             # road
    pred[37] = 3                # road on void: out of the union
    pred[38] = 4                # predicted void
    pred[39] = 1 + 1 * OFFSET   # car entirely on void: ignored
    return gt[None], info, pred[None]


def test_hand_computed_pq(tmp_path):
    gt, info, pred = hand_case()
    ann, segdir = write_dataset(tmp_path, [(7, gt, info)])
    cfg = dict(type='KNetCocoPanopticMetric', ann_file=ann,
               seg_prefix=segdir, classwise=True)
    got = evaluate(cfg, META, [(7, pred)])
    sky, road = 0.9, 8 / 14  # road: I 8, |P| 15, |G| 8, 1 px on void
    # person: A is FN (IoU 0.5 is no match), the 5 px prediction FP, the
    # crowd prediction ignored; car: no TP/FP/FN -> not averaged
    want = dict(PQ=(sky + road) / 3, SQ=(sky + road) / 3, RQ=2 / 3,
                PQ_th=0.0, SQ_th=0.0, RQ_th=0.0, PQ_st=(sky + road) / 2,
                SQ_st=(sky + road) / 2, RQ_st=1.0)
    for k, v in want.items():
        assert got[k] == pytest.approx(100 * v, abs=1e-9), k
    ref, _ = reference_pq(
        [(gt, info, *mmdet_to_ids(pred, {0: 1, 1: 3, 2: 10, 3: 11}, 4))],
        {c['id']: c['isthing'] for c in CATS})
    for k, v in want.items():
        assert ref[k] == pytest.approx(100 * v, abs=1e-9), k


def test_crowd_needs_more_than_half(tmp_path):
    """A prediction exactly half on the crowd region is a FP; the crowd is
    never a FN; without a thing category with segments Things is NaN."""
    gt = np.zeros((1, 8), np.int64)
    gt[0, :4] = 299
    gt[0, 4:] = 100
    info = [seg(299, 1, 1, area=4), seg(100, 10, area=4)]
    pred = np.full((1, 8), 2)
    pred[0, 2:6] = 1 * OFFSET  # 2 px crowd + 2 px sky
    ann, segdir = write_dataset(tmp_path, [(1, gt, info)])
    got = evaluate(dict(type='KNetCocoPanopticMetric', ann_file=ann,
                        seg_prefix=segdir), META, [(1, pred)])
    # person: 1 FP -> PQ 0; sky: pred sky = px 0,1,6,7 (4 px) vs GT 4..7:
    # I 2, U 6 -> no match: 1 FP + 1 FN
    assert got['PQ_th'] == 0 and got['RQ_th'] == 0
    assert got['PQ_st'] == 0 and got['PQ'] == 0
    pred2 = np.full((1, 8), 4)  # all void: nothing predicted
    got2 = evaluate(dict(type='KNetCocoPanopticMetric', ann_file=ann,
                         seg_prefix=segdir), META, [(1, pred2)])
    assert np.isnan(got2['PQ_th'])  # crowd only: no thing category counted
    assert got2['PQ_st'] == 0 and got2['RQ_st'] == 0


def test_listed_segment_missing_from_png_is_fn(tmp_path):
    """panopticapi counts a listed non-crowd GT segment as FN even when its
    PNG holds no pixel of it."""
    gt = np.full((2, 5), 100, np.int64)
    info = [seg(100, 10, area=10), seg(300, 11, area=0)]
    pred = np.full((2, 5), 2)  # sky everywhere
    ann, segdir = write_dataset(tmp_path, [(3, gt, info)])
    got = evaluate(dict(type='KNetCocoPanopticMetric', ann_file=ann,
                        seg_prefix=segdir), META, [(3, pred)])
    assert got['PQ_st'] == pytest.approx(50.0)  # sky 1, road 0 (one FN)
    assert got['RQ_st'] == pytest.approx(50.0)
    ref, _ = reference_pq(
        [(gt, info, *mmdet_to_ids(pred, {0: 1, 1: 3, 2: 10, 3: 11}, 4))],
        {c['id']: c['isthing'] for c in CATS})
    assert ref['PQ_st'] == pytest.approx(got['PQ_st'])


# --------------------------------------------------------------------------
# synthetic COCO panoptic (the official 133 categories)

@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    from knet.datasets.synthetic import make_synthetic
    root = tmp_path_factory.mktemp('coco') / 'coco'
    make_synthetic('coco_panoptic', root, videos=2, frames=3,
                   size=(40, 64), seed=0)
    ann = json.loads((root / 'annotations' /
                      'panoptic_val2017.json').read_text())
    return root, ann


def coco_meta():
    from mmdet.datasets import CocoPanopticDataset
    return CocoPanopticDataset.METAINFO


def gt_as_prediction(root, ann_entry, label_of):
    """The GT PNG in mmdet encoding (void -> num_classes, crowd a segment)."""
    ids = rgb2id(read_image(root / 'panoptic_val2017' /
                            ann_entry['file_name']))
    pan = np.full(ids.shape, 133, np.int64)
    for k, s in enumerate(ann_entry['segments_info'], 1):
        label = label_of[s['category_id']]
        pan[ids == s['id']] = label + (k * OFFSET if label < 80 else 0)
    return pan


def label_map(ann):
    names = coco_meta()['classes']
    by_name = {c['name']: c['id'] for c in ann['categories']}
    return {by_name[n]: i for i, n in enumerate(names)}


def coco_cfg(root, **kw):
    return dict(type='KNetCocoPanopticMetric',
                ann_file=str(root / 'annotations' / 'panoptic_val2017.json'),
                seg_prefix=str(root / 'panoptic_val2017'), **kw)


def test_synthetic_round_trip_is_100(coco):
    root, ann = coco
    lab = label_map(ann)
    preds = [(a['image_id'], gt_as_prediction(root, a, lab))
             for a in ann['annotations']]
    assert len(preds) == 3
    got = evaluate(coco_cfg(root), coco_meta(), preds)
    for k in ('PQ', 'SQ', 'RQ', 'PQ_th', 'SQ_th', 'RQ_th', 'PQ_st', 'SQ_st',
              'RQ_st'):
        assert got[k] == pytest.approx(100.0), k
    # the data has crowd regions (predicted as a person segment: ignored)
    assert any(s['iscrowd'] for a in ann['annotations']
               for s in a['segments_info'])


def perturbed(pan, rng):
    """Shifted, partly relabelled, partly voided prediction."""
    out = np.roll(pan, int(rng.integers(1, 6)), axis=1)
    out = np.roll(out, int(rng.integers(0, 4)), axis=0)
    vals = np.unique(out)
    for v in rng.choice(vals, max(1, vals.size // 3), replace=False):
        out[out == v] = int(rng.integers(0, 133)) + \
            int(rng.integers(0, 3)) * OFFSET
    h, w = out.shape
    y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
    out[y:y + 8, x:x + 8] = 133
    return out


def test_matches_reference_on_perturbed_predictions(coco):
    root, ann = coco
    lab = label_map(ann)
    label2cat = {v: k for k, v in lab.items()}
    rng = np.random.default_rng(0)
    preds, pairs = [], []
    for a in ann['annotations']:
        pan = perturbed(gt_as_prediction(root, a, lab), rng)
        preds.append((a['image_id'], pan))
        gt = rgb2id(read_image(root / 'panoptic_val2017' / a['file_name']))
        pairs.append((gt, a['segments_info'],
                      *mmdet_to_ids(pan, label2cat, 133)))
    got = evaluate(coco_cfg(root), coco_meta(), preds)
    ref, _ = reference_pq(pairs, {c['id']: c['isthing']
                                  for c in ann['categories']})
    assert 0 < ref['PQ'] < 100
    for k, v in ref.items():
        assert got[k] == pytest.approx(v, abs=1e-9, nan_ok=True), k


def test_outfile_prefix_writes_panopticapi_files(coco, tmp_path):
    """The written PNGs + JSON evaluate (by the reference) to the metric's
    numbers; format_only writes the same files and returns nothing."""
    root, ann = coco
    lab = label_map(ann)
    rng = np.random.default_rng(1)
    preds = [(a['image_id'], perturbed(gt_as_prediction(root, a, lab), rng))
             for a in ann['annotations']]
    out = tmp_path / 'res'
    got = evaluate(coco_cfg(root, outfile_prefix=str(out)), coco_meta(),
                   preds)
    written = json.loads((out / 'panoptic.json').read_text())
    assert len(written['annotations']) == 3
    assert not glob.glob(str(out / '**' / '.tmp_*'), recursive=True)
    pairs = []
    gts = {a['image_id']: a for a in ann['annotations']}
    for p in written['annotations']:
        a = gts[p['image_id']]
        assert p['file_name'] == a['file_name']
        pred_ids = rgb2id(read_image(out / 'panoptic' / p['file_name']))
        for s in p['segments_info']:
            assert s['area'] == int((pred_ids == s['id']).sum())
        gt = rgb2id(read_image(root / 'panoptic_val2017' / a['file_name']))
        pairs.append((gt, a['segments_info'], pred_ids, p['segments_info']))
    ref, _ = reference_pq(pairs, {c['id']: c['isthing']
                                  for c in ann['categories']})
    for k, v in ref.items():
        assert got[k] == pytest.approx(v, abs=1e-9, nan_ok=True), k

    out2 = tmp_path / 'fmt'
    cfg = dict(type='KNetCocoPanopticMetric',
               ann_file=str(root / 'annotations' / 'panoptic_val2017.json'),
               format_only=True, outfile_prefix=str(out2))
    assert evaluate(cfg, coco_meta(), preds) == {}
    assert json.loads((out2 / 'panoptic.json').read_text()) == written
    for p in written['annotations']:
        assert (out2 / 'panoptic' / p['file_name']).read_bytes() == \
            (out / 'panoptic' / p['file_name']).read_bytes()


def test_results_are_small_and_merge(coco):
    """Per-image results are accumulator rows; splitting the images over
    two 'ranks' and concatenating their results changes nothing."""
    import knet.evaluation.metrics  # noqa: F401
    from mmdet.registry import METRICS
    root, ann = coco
    lab = label_map(ann)
    rng = np.random.default_rng(2)
    preds = [(a['image_id'], perturbed(gt_as_prediction(root, a, lab), rng))
             for a in ann['annotations']]
    ranks = [METRICS.build(coco_cfg(root)) for _ in range(2)]
    for m in ranks:
        m.dataset_meta = coco_meta()
    for i, (img_id, pan) in enumerate(preds):
        ranks[i % 2].process(None, [sample(img_id, pan).to_dict()])
    results = ranks[0].results + ranks[1].results
    for r in results:
        assert r['stats'].shape == (len(r['rows']), 4)
        assert r['stats'].nbytes <= 133 * 4 * 8
    whole = METRICS.build(coco_cfg(root))
    whole.dataset_meta = coco_meta()
    whole.process(None, [sample(i, p).to_dict() for i, p in preds])
    assert ranks[0].compute_metrics(results) == \
        pytest.approx(whole.compute_metrics(whole.results))


def test_errors_are_clear(coco, tmp_path):
    import knet.evaluation.metrics  # noqa: F401
    from mmdet.registry import METRICS
    from knet.formats.io import DataError
    root, ann = coco
    with pytest.raises(ValueError, match='outfile_prefix'):
        METRICS.build(dict(type='KNetCocoPanopticMetric', format_only=True))
    m = METRICS.build(coco_cfg(root))
    m.dataset_meta = coco_meta()
    img_id = ann['annotations'][0]['image_id']
    with pytest.raises(DataError, match='prediction is 4x4'):
        m.process(None, [sample(img_id, np.zeros((4, 4), np.int64)).to_dict()])
    with pytest.raises(ValueError, match='label 500'):
        m.process(None, [sample(img_id, np.full((40, 64), 500)).to_dict()])


# --------------------------------------------------------------------------
# the configs' evaluators

PANOPTIC_CONFIGS = sorted(
    str(p.relative_to(REPO))
    for p in (REPO / 'configs' / 'knet').glob('*coco-panoptic*.py'))


def test_there_are_panoptic_configs():
    assert 'configs/knet/knet_s3_r50_fpn_ms-3x_coco-panoptic.py' in \
        PANOPTIC_CONFIGS


@pytest.mark.parametrize('path', PANOPTIC_CONFIGS)
def test_config_evaluator_on_synthetic_data(path, coco):
    from mmengine.config import Config
    root, ann = coco
    cfg = Config.fromfile(str(REPO / path))
    for key in ('val_evaluator', 'test_evaluator'):
        metric = dict(cfg[key])
        assert metric['type'] == 'KNetCocoPanopticMetric'
        data_root = cfg.val_dataloader.dataset.data_root
        for k in ('ann_file', 'seg_prefix'):
            assert metric[k].startswith(data_root)
            metric[k] = str(root) + '/' + metric[k][len(data_root):]
        lab = label_map(ann)
        preds = [(a['image_id'], gt_as_prediction(root, a, lab))
                 for a in ann['annotations']]
        got = evaluate(metric, coco_meta(), preds)
        assert got['PQ'] == pytest.approx(100.0)
