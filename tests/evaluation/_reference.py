"""Slow, literal re-statements of the official metric algorithms.

Used only by the tests as an independent route to the expected values: they
follow the reference scripts step by step (dicts of segment areas, a Python
loop over segment pairs, whole windows stacked in memory), sharing no code
with knet.evaluation.functional.
"""
import math
from collections import defaultdict

import numpy as np


def stq_reference(frames, num_classes, things, ignore=255, divisor=1000):
    """deeplab2 STQuality on full panoptic maps (sem * divisor + inst).

    frames: iterable of (sequence_id, gt_panoptic, pred_panoptic).
    """
    size = num_classes + 1
    conf = {}
    gts, preds, inters = {}, {}, {}
    for seq, gt, pred in frames:
        gt = np.asarray(gt, np.int64).ravel()
        pred = np.asarray(pred, np.int64).ravel()
        gs, ps = gt // divisor, pred // divisor
        gs = np.where(gs == ignore, num_classes, gs)
        ps = np.where(ps == ignore, num_classes, ps)
        if seq not in conf:
            conf[seq] = np.zeros((size, size), np.int64)
            gts[seq], preds[seq], inters[seq] = {}, {}, {}
        for a, b in zip(gs, ps):
            conf[seq][a, b] += 1
        inst = gt % divisor
        gmask = np.isin(gs, things)
        pmask = np.isin(ps, things)
        crowd = gmask & (inst == 0)
        gmask &= ~crowd
        pmask &= ~crowd
        for v in gt[gmask]:
            gts[seq][v] = gts[seq].get(v, 0) + 1
        for v in pred[pmask]:
            preds[seq][v] = preds[seq].get(v, 0) + 1
        both = gmask & pmask
        for a, b in zip(gt[both], pred[both]):
            inters[seq][(a, b)] = inters[seq].get((a, b), 0) + 1
    aq_total, tubes = 0.0, 0
    total = np.zeros((size, size), np.int64)
    for seq in conf:
        outer = 0.0
        for g, gsize in gts[seq].items():
            inner = 0.0
            for p, psize in preds[seq].items():
                if (g, p) in inters[seq]:
                    tpa = inters[seq][(g, p)]
                    inner += tpa * tpa / (tpa + (psize - tpa) + (gsize - tpa))
            outer += inner / gsize
        aq_total += outer
        tubes += len(gts[seq])
        c = conf[seq].copy()
        c[num_classes, :] = 0
        total += c
    aq = aq_total / max(tubes, 1e-15)
    inter = np.diag(total)
    union = total.sum(0) + total.sum(1) - inter
    n = np.count_nonzero(union)
    sq = float(np.sum(inter / np.maximum(union, 1e-15)) / n) if n else None
    stq = None if sq is None else math.sqrt(aq * sq)
    return dict(STQ=stq, AQ=aq, SQ=sq)


def vpq_vpsnet_reference(videos, nframes, categories):
    """VPSNet eval_vpq.py (deep-copying version) for one window length.

    videos: list of videos; a video is a list of frames
    (gt_ids, gt_segments, pred_ids, pred_segments) with panopticapi ids
    (0 = void) and segments {id: dict(category_id, iscrowd)} in
    segments_info order. categories: {id: isthing}.
    Returns dict tp/fp/fn/iou per category.
    """
    stat = defaultdict(lambda: [0, 0, 0, 0.0])
    for video in videos:
        for s in range(len(video) - nframes + 1):
            win = video[s:s + nframes]
            gt = np.stack([f[0] for f in win]).ravel()
            pred = np.stack([f[2] for f in win]).ravel()
            gseg, pseg = {}, {}
            for f in win:
                for k, v in f[1].items():
                    if k not in gseg:
                        gseg[k] = dict(v, area=0)
                for k, v in f[3].items():
                    if k not in pseg:
                        pseg[k] = dict(v, area=0)
            for k in gseg:
                gseg[k]['area'] = int((gt == k).sum())
            for k in pseg:
                pseg[k]['area'] = int((pred == k).sum())
            inter = defaultdict(int)
            for a, b in zip(gt, pred):
                inter[(int(a), int(b))] += 1
            gm, pm = set(), set()
            for (a, b), i in sorted(inter.items()):
                if a not in gseg or b not in pseg:
                    continue
                if gseg[a]['iscrowd'] == 1:
                    continue
                if gseg[a]['category_id'] != pseg[b]['category_id']:
                    continue
                union = pseg[b]['area'] + gseg[a]['area'] - i - \
                    inter.get((0, b), 0)
                iou = i / union
                if iou > 0.5:
                    stat[gseg[a]['category_id']][0] += 1
                    stat[gseg[a]['category_id']][3] += iou
                    gm.add(a)
                    pm.add(b)
            crowd = {}
            for a, info in gseg.items():
                if a in gm:
                    continue
                if info['iscrowd'] == 1:
                    crowd[info['category_id']] = a
                    continue
                stat[info['category_id']][2] += 1
            for b, info in pseg.items():
                if b in pm:
                    continue
                ign = inter.get((0, b), 0)
                if info['category_id'] in crowd:
                    ign += inter.get((crowd[info['category_id']], b), 0)
                if ign / info['area'] > 0.5:
                    continue
                stat[info['category_id']][1] += 1
    return dict(stat)


def pq_average_reference(stat, categories, isthing=None):
    """VPSNet ``PQStat.pq_average`` (None where it would divide by zero)."""
    pq, n = 0.0, 0
    for cat, thing in categories.items():
        if isthing is not None and thing != isthing:
            continue
        tp, fp, fn, iou = stat.get(cat, [0, 0, 0, 0.0])
        if tp + fp + fn == 0:
            continue
        n += 1
        pq += iou / (tp + 0.5 * fp + 0.5 * fn)
    return pq / n if n else None


def vpq_vipdeeplab_reference(videos, nframes, num_classes, things,
                             max_ins=2**16, ign=255):
    """Video K-Net eval_dvpq_step.py for one window length.

    videos: list of videos, each a list of (gt_sem, gt_inst, pred_sem,
    pred_inst) maps; predicted ``ign`` is treated as no segment (the script
    would crash on it). Returns (pq_all, pq_things, pq_stuff) in [0, 1].
    """
    k = num_classes
    iou_c = np.zeros(k)
    tp_c = np.zeros(k)
    fn_c = np.zeros(k)
    fp_c = np.zeros(k)
    for video in videos:
        for s in range(len(video) - nframes + 1):
            win = video[s:s + nframes]
            gt = np.concatenate([f[0].astype(np.int64) * max_ins + f[1]
                                 for f in win], axis=1).ravel()
            pr = np.concatenate([f[2].astype(np.int64) * max_ins + f[3]
                                 for f in win], axis=1).ravel()
            ga = {int(v): int((gt == v).sum()) for v in np.unique(gt)}
            pa = {int(v): int((pr == v).sum()) for v in np.unique(pr)
                  if v // max_ins != ign}
            inter = defaultdict(int)
            for a, b in zip(gt, pr):
                inter[(int(a), int(b))] += 1
            void = {a for a in ga if a // max_ins == ign}
            gm, pm = set(), set()
            for (a, b), i in inter.items():
                if b not in pa or a // max_ins != b // max_ins:
                    continue
                if a // max_ins == ign:
                    continue
                vo = sum(inter.get((v, b), 0) for v in void)
                iou = i / (ga[a] + pa[b] - i - vo)
                if iou > 0.5:
                    tp_c[a // max_ins] += 1
                    iou_c[a // max_ins] += iou
                    gm.add(a)
                    pm.add(b)
            for a in ga:
                if a not in gm and a // max_ins != ign:
                    fn_c[a // max_ins] += 1
            for b in pa:
                if b in pm:
                    continue
                vo = sum(inter.get((v, b), 0) for v in void)
                if vo / pa[b] > 0.5:
                    continue
                fp_c[b // max_ins] += 1
    eps = 1e-10
    pq = iou_c / (tp_c + eps) * (tp_c / (tp_c + 0.5 * fn_c + 0.5 * fp_c +
                                         eps))
    thing = np.zeros(k, bool)
    thing[list(things)] = True
    return pq.mean(), pq[thing].mean(), pq[~thing].mean()
