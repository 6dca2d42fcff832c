"""K-Net overfits a few synthetic panoptic images: losses fall and PQ >= 0.9.

Matching, losses and merge are only right together if a tiny K-Net can
memorise a handful of images; slow (a few minutes on 2 busy CPU cores).
"""
import copy

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402
from mmdet.structures.mask import BitmapMasks  # noqa: E402
from mmengine.structures import InstanceData, PixelData  # noqa: E402

from knet.utils.setup_env import register_all_modules  # noqa: E402

from .parity.tiny_knet import TINY_KNET  # noqa: E402

register_all_modules(init_default_scope=True)
H, W = 64, 64
T, S = 2, 17


def _image(seed):
    """Stuff: sky (label 12, top) and road (label 2, bottom); things: a car
    (1) and a person (0) painted with their class colours."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.uint8)
    sem = np.full((H, W), 12, np.int64)
    sem[H // 2:] = 2
    img[sem == 12] = (70, 130, 180)
    img[sem == 2] = (128, 64, 128)
    masks, labels = [], []
    # one object per half, on the stride-8 grid of the kernel features
    for half, (label, colour) in enumerate(((1, (0, 0, 142)),
                                            (0, (220, 20, 60)))):
        h, w = 8 * rng.integers(2, 4), 8 * rng.integers(2, 4)
        y = 8 * rng.integers(0, (H - h) // 8 + 1)
        x = half * W // 2 + 8 * rng.integers(0, (W // 2 - w) // 8 + 1)
        m = np.zeros((H, W), np.uint8)
        m[y:y + h, x:x + w] = 1
        masks.append(m[None])
        labels.append(label)
        img[m > 0] = colour
        sem[m > 0] = label
    noise = rng.integers(-10, 10, img.shape)
    img = np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)
    masks = np.concatenate(masks)
    sample = DetDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W),
                                         scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(
        labels=torch.tensor(labels), masks=BitmapMasks(masks, H, W))
    sample.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(sem)[None])
    return torch.from_numpy(img).permute(2, 0, 1).contiguous(), sample


def _pq(pred_ids, pred_labels, gt_ids, gt_labels):
    """Panoptic quality of one image from id maps and id -> label dicts."""
    tp, fp, fn, iou_sum = 0, 0, 0, 0.0
    matched_pred = set()
    for g, gl in gt_labels.items():
        gmask = gt_ids == g
        best = None
        for p, pl in pred_labels.items():
            if pl != gl:
                continue
            pmask = pred_ids == p
            inter = (gmask & pmask).sum()
            iou = inter / float((gmask | pmask).sum())
            if iou > 0.5:
                best = (p, iou)
        if best is None:
            fn += 1
        else:
            tp += 1
            iou_sum += best[1]
            matched_pred.add(best[0])
    fp = len(set(pred_labels) - matched_pred)
    return iou_sum / max(tp + 0.5 * fp + 0.5 * fn, 1e-9)


@pytest.mark.slow
def test_tiny_knet_overfits_synthetic_panoptic_images():
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _overfit_and_check()
    finally:
        torch.set_num_threads(threads)


def _overfit_and_check():
    cfg = copy.deepcopy(TINY_KNET)
    cfg['mask_assign_stride'] = 4
    cfg['rpn_head']['feat_downsample_stride'] = 2
    for stage in cfg['roi_head']['mask_head']:
        stage['mask_upsample_stride'] = 2
        stage['previous_type'] = None
    cfg['roi_head']['test_cfg'].update(uncovered='best_kept')
    cfg['data_preprocessor'] = dict(
        type='DetDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], pad_size_divisor=32, pad_mask=True,
        pad_seg=True, seg_pad_value=255)
    model = MODELS.build(cfg)
    model.init_weights()
    data = [_image(i) for i in range(2)]
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    first = last = None
    model.train()
    for it in range(250):
        batch = model.data_preprocessor(
            dict(inputs=[d[0] for d in data],
                 data_samples=[copy.deepcopy(d[1]) for d in data]), True)
        losses = model(**batch, mode='loss')
        total = sum(v for k, v in losses.items() if 'loss' in k)
        optim.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        first = total.item() if first is None else first
        last = total.item()
    assert last < 0.2 * first

    model.eval()
    pqs = []
    for img, sample in data:
        batch = model.data_preprocessor(
            dict(inputs=[img], data_samples=[copy.deepcopy(sample)]), False)
        with torch.no_grad():
            _, stages = model._kernel_forward(batch['inputs'])
        meta = batch['data_samples'][0].metainfo
        res = model.roi_head.predict_panoptic(stages[-1], [meta])[0]
        pred_ids = res.seg_ids.numpy()
        pred_labels = {i + 1: int(l) for i, l in enumerate(res.labels)}
        sem = sample.gt_sem_seg.sem_seg[0].numpy()
        gt_ids = np.zeros((H, W), np.int64)
        gt_labels = {}
        for i, m in enumerate(sample.gt_instances.masks.masks):
            gt_ids[m > 0] = i + 1
            gt_labels[i + 1] = int(sample.gt_instances.labels[i])
        for j, lab in enumerate(np.unique(sem[sem >= T])):
            gt_ids[sem == lab] = 100 + j
            gt_labels[100 + j] = int(lab)
        pqs.append(_pq(pred_ids, pred_labels, gt_ids, gt_labels))
    assert np.mean(pqs) >= 0.9, pqs
