"""Every config's datasets build on generated data (raw synthetic layout ->
the project's converter -> the config's dataset), and the training pipeline
produces a sample."""
from pathlib import Path

import pytest

from tests.datasets._dataset_helpers import build, run_script
from tests.test_configs import CONFIGS, load


def _kitti(tmp):
    from knet.datasets.synthetic import make_synthetic
    make_synthetic('kitti-step', tmp / 'raw', videos=3, frames=4,
                   size=(48, 96), seed=0, test_videos=1)
    assert run_script('scripts/kitti_step_prepare.py',
                      ['--src', tmp / 'raw', '--dst', tmp / 'ks']) == 0
    return tmp / 'ks'


def _vipseg(tmp):
    from knet.datasets.synthetic import make_synthetic
    make_synthetic('vipseg', tmp / 'raw', videos=3, frames=4, size=(48, 80),
                   seed=0, test_videos=1, layout='original')
    assert run_script('tools/dataset/vipseg_prepare.py', [
        '--src', tmp / 'raw', '--dst', tmp / 'VIPSeg', '--short-side', 48
    ]) == 0
    return tmp / 'VIPSeg'


def _cityscapes_vps(tmp):
    from knet.datasets.synthetic import make_synthetic
    make_synthetic('cityscapes-vps', tmp / 'cvps', videos=3, frames=10,
                   size=(48, 96), seed=0)
    return tmp / 'cvps'


def _ytvis(version):
    def make(tmp):
        from knet.datasets.synthetic import make_synthetic
        root = tmp / f'youtube_vis_{version}'
        manifest = make_synthetic(f'youtube_vis_{version}', root, videos=2,
                                  frames=6, size=(40, 72), seed=0)
        assert run_script('tools/dataset/youtubevis2coco.py', [
            '-i', manifest['ann_dir'], '-o', root / 'annotations',
            '--version', version
        ]) == 0
        return root
    return make


def _coco(tmp):
    from knet.datasets.synthetic import make_synthetic
    make_synthetic('coco_panoptic', tmp / 'coco', videos=2, frames=3,
                   size=(40, 64), seed=0)
    return tmp / 'coco'


def _cityscapes(tmp):
    from knet.datasets.synthetic import make_synthetic
    make_synthetic('cityscapes', tmp / 'raw', videos=2, frames=3,
                   size=(32, 64), seed=0)
    assert run_script('tools/dataset/cityscapes_prepare.py',
                      ['--src', tmp / 'raw', '--dst', tmp / 'cs']) == 0
    return tmp / 'cs'


#: dataset type -> generator of a data root in the layout it reads
MAKERS = {
    'KittiStepDataset': _kitti,
    'VIPSegDataset': _vipseg,
    'CityscapesVPSDataset': _cityscapes_vps,
    'YouTubeVISDataset': None,  # by dataset_version
    'CocoPanopticDataset': _coco,
    'CocoDataset': _coco,
    'CityscapesPanopticDataset': _cityscapes,
    'CityscapesSTEPDataset': _cityscapes,
}


def _dataset_cfg(loader_cfg):
    cfg = loader_cfg.dataset
    while 'dataset' in cfg and 'type' in cfg.dataset:  # dataset wrappers
        cfg = cfg.dataset
    return cfg


def _maker(ds_cfg):
    if ds_cfg.type == 'YouTubeVISDataset':
        return f'ytvis{ds_cfg.dataset_version}', _ytvis(
            str(ds_cfg.dataset_version))
    return ds_cfg.type, MAKERS[ds_cfg.type]


@pytest.fixture(scope='session')
def data_roots(tmp_path_factory):
    cache = {}

    def get(key, maker):
        if key not in cache:
            cache[key] = str(maker(tmp_path_factory.mktemp(key))) + '/'
        return cache[key]

    return get


DATA_CONFIGS = [p for p in CONFIGS if 'train_dataloader' in load(p)]


def test_model_configs_have_data():
    assert 'configs/video_knet_kitti.py' in DATA_CONFIGS


@pytest.mark.parametrize('path', DATA_CONFIGS)
def test_config_datasets_and_evaluators_build(path, data_roots):
    from mmdet.registry import METRICS
    cfg = load(path)
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(split) is None:
            continue
        ds_cfg = _dataset_cfg(cfg[split])
        assert ds_cfg.type in MAKERS, f'{path}: no generator for {ds_cfg.type}'
        key, maker = _maker(ds_cfg)
        root = data_roots(key, maker)
        ds = build(ds_cfg, data_root=root)
        assert len(ds) > 0, f'{path}: empty {split}'
        if split == 'train_dataloader':
            sample = ds[0]
            assert sample is not None and 'inputs' in sample
        else:
            evaluator = split.replace('dataloader', 'evaluator')
            for metric in _metrics(cfg.get(evaluator)):
                # the metric's files live under the config's data root
                for key in ('ann_file', 'seg_prefix'):
                    if isinstance(metric.get(key), str):
                        metric[key] = metric[key].replace(
                            cfg.get('data_root', ds_cfg.data_root), root)
                assert METRICS.build(metric) is not None


def _metrics(evaluator):
    if evaluator is None:
        return []
    if isinstance(evaluator, dict) and 'type' not in evaluator:
        evaluator = evaluator['metrics']
    return evaluator if isinstance(evaluator, list) else [evaluator]
