"""COCO panoptic / instance configs on synthetic Detectron2-layout data."""
import numpy as np
import pytest

from tests.datasets._dataset_helpers import build, load_config

pytest.importorskip('mmdet')


@pytest.fixture(scope='module')
def coco(tmp_path_factory):
    from knet.datasets.synthetic import make_synthetic
    tmp = tmp_path_factory.mktemp('coco')
    manifest = make_synthetic('coco_panoptic', tmp / 'coco', videos=2,
                              frames=3, size=(40, 64), seed=2)
    return manifest, str(tmp / 'coco') + '/'


def test_panoptic_labels_pixel_exact(coco):
    from knet.formats.coco_panoptic import COCO_STUFF_IDS, COCO_THING_IDS
    manifest, root = coco
    cfg = load_config('coco_panoptic.py')
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadCocoPanopticAnnotations'),
        dict(type='PackDetInputs'),
    ]
    ds = build(cfg.train_dataloader.dataset, data_root=root,
               pipeline=pipeline, filter_cfg=None)
    # things first (ascending category id), then stuff
    label = {c: i for i, c in enumerate(sorted(COCO_THING_IDS))}
    label.update({c: 80 + i for i, c in enumerate(sorted(COCO_STUFF_IDS))})
    truth = {f['image_id']: f for v in manifest['videos']
             if v['split'] == 'train' for f in v['frames']}
    assert len(ds) == len(truth)
    n_crowd = 0
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        fr = truth[sample.img_id]
        expect = np.full(fr['semantic'].shape, 255, np.int64)
        for cid in np.unique(fr['semantic']):
            if cid != 255:
                expect[fr['semantic'] == cid] = label[int(cid)]
        np.testing.assert_array_equal(
            sample.gt_sem_seg.sem_seg[0].numpy().astype(np.int64), expect)
        want = sorted(int(s) for s in np.unique(fr['instance']) if s > 0)
        masks = sample.gt_instances.masks.masks
        assert len(masks) == len(want)
        got = sorted(int(np.unique(fr['segment_ids'][m.astype(bool)])[0])
                     for m in masks)
        assert got == want
        # crowd keeps its thing class in the semantic map (checked above) and
        # is in no instance mask
        crowd = fr['crowd']
        if len(masks):
            assert not (masks.any(0) & crowd).any()
        n_crowd += int(crowd.sum())
    assert n_crowd > 0


def test_coco_instance_config_builds(coco):
    _, root = coco
    cfg = load_config('coco_instance.py')
    ds = build(cfg.train_dataloader.dataset, data_root=root)
    sample = ds[0]['data_samples']
    assert len(sample.gt_instances) > 0
    assert len(ds.metainfo['classes']) == 80
    val = build(cfg.val_dataloader.dataset, data_root=root)
    assert len(val) > 0 and val[0]['inputs'].shape[0] == 3
