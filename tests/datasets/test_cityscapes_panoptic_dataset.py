"""Cityscapes panoptic / STEP: synthetic raw -> prepare -> config."""
import numpy as np
import pytest

from tests.datasets._dataset_helpers import build, load_config, run_script

pytest.importorskip('mmdet')

# Cityscapes labelIds of the 19 trainIds (official table), written by hand.
LABEL_ID_OF_TRAIN_ID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25,
                        26, 27, 28, 31, 32, 33)


@pytest.fixture(scope='module')
def city(tmp_path_factory):
    pytest.importorskip('cityscapesscripts')
    from knet.datasets.synthetic import make_synthetic
    tmp = tmp_path_factory.mktemp('city')
    manifest = make_synthetic('cityscapes', tmp / 'raw', videos=2, frames=3,
                              size=(32, 64), seed=4)
    assert run_script('tools/dataset/cityscapes_prepare.py',
                      ['--src', tmp / 'raw', '--dst', tmp / 'cs']) == 0
    return manifest, str(tmp / 'cs') + '/'


def _check(ds, manifest, things):
    """things: trainIds in model order; stuff follow in trainId order."""
    order = list(things) + [t for t in range(19) if t not in things]
    label_of_label_id = {LABEL_ID_OF_TRAIN_ID[t]: i
                         for i, t in enumerate(order)}
    frames = {f['image']: f for v in manifest['videos']
              if v['split'] == 'train' for f in v['frames']}
    assert len(ds) == len(frames) == 3
    n_inst = n_crowd = 0
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        truth = [f for p, f in frames.items()
                 if p.endswith(sample.img_path.split('/')[-1])][0]
        label_id = truth['label_id']
        expect = np.full(label_id.shape, 255, np.int64)
        for lid, label in label_of_label_id.items():
            expect[label_id == lid] = label
        np.testing.assert_array_equal(
            sample.gt_sem_seg.sem_seg[0].numpy().astype(np.int64), expect)
        gi = sample.gt_instances
        # instances: raw instanceIds labelId * 1000 + n of the chosen things
        raw = truth['instance']
        want = [int(r) for r in np.unique(raw) if r > 0 and
                label_of_label_id[int(r) // 1000] < len(things)]
        assert len(gi.masks) == len(want)
        for k, mask in enumerate(gi.masks.masks):
            ids = np.unique(raw[mask.astype(bool)])
            assert len(ids) == 1 and int(ids[0]) in want
            np.testing.assert_array_equal(mask, raw == ids[0])
            assert gi.labels[k].item() == label_of_label_id[int(ids[0]) //
                                                            1000]
        if len(want):
            assert not (gi.masks.masks.any(0) & truth['crowd']).any()
        n_inst += len(want)
        n_crowd += int(truth['crowd'].sum())
    assert n_inst > 0 and n_crowd > 0


def test_cityscapes_step_labels(city):
    manifest, root = city
    cfg = load_config('cityscapes_step.py')
    ds = build(cfg.train_dataloader.dataset, data_root=root,
               pipeline=cfg.test_pipeline)
    assert ds.metainfo['label_ids'][:3] == (11, 13, 0)
    assert ds.metainfo['thing_classes'] == ('person', 'car')
    _check(ds, manifest, (11, 13))


def test_cityscapes_panoptic_labels(city):
    manifest, root = city
    cfg = load_config('cityscapes_panoptic.py')
    ds = build(cfg.train_dataloader.dataset, data_root=root,
               pipeline=load_config('cityscapes_step.py').test_pipeline)
    assert ds.metainfo['label_ids'] == tuple(range(11, 19)) + tuple(
        range(11))
    _check(ds, manifest, tuple(range(11, 19)))


def test_train_pipelines_run(city):
    _, root = city
    for name in ('cityscapes_step.py', 'cityscapes_panoptic.py'):
        cfg = load_config(name)
        ds = build(cfg.train_dataloader.dataset, data_root=root)
        sample = ds[0]
        h, w = sample['inputs'].shape[-2:]
        assert h % 32 == 0 and w % 32 == 0
        sem = sample['data_samples'].gt_sem_seg.sem_seg
        assert tuple(sem.shape[-2:]) == (h, w)
        val = build(cfg.val_dataloader.dataset, data_root=root)
        assert len(val) == 3
