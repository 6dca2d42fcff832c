"""browse_dataset.py on synthetic KITTI-STEP and COCO panoptic."""
import os

import numpy as np
import pytest

from tests.datasets._dataset_helpers import CONFIGS, run_script

pytest.importorskip('mmdet')


@pytest.fixture(scope='module')
def kitti_root(tmp_path_factory):
    from knet.datasets.synthetic import make_synthetic
    tmp = tmp_path_factory.mktemp('browse')
    make_synthetic('kitti-step', tmp / 'raw', videos=3, frames=3,
                   size=(32, 64), seed=1)
    assert run_script('scripts/kitti_step_prepare.py',
                      ['--src', tmp / 'raw', '--dst', tmp / 'ks']) == 0
    return str(tmp / 'ks') + '/'


def test_browse_video_samples(kitti_root, tmp_path):
    import cv2
    out = tmp_path / 'out'
    rc = run_script('tools/analysis_tools/browse_dataset.py', [
        CONFIGS / 'kitti_step_vps.py', '--output-dir', out, '--not-show',
        '--max', '4', '--cfg-options',
        f'train_dataloader.dataset.data_root={kitti_root}'
    ])
    assert rc == 0
    files = sorted(os.listdir(out))
    assert len(files) == 4
    # names carry the key frame: sequence 000000, frames 0, 1, 2, then 000001
    assert files[0] == '00000_000000_0.png'
    assert files[3] == '00003_000001_0.png'
    img = cv2.imread(str(out / files[1]))
    # two equally sized frames (same resize/crop, at most the release's
    # 384 x 1248 crop) side by side with a white 4 px gap
    height, width = img.shape[:2]
    tile = (width - 4) // 2
    assert width == 2 * tile + 4 and height <= 384 and tile <= 1248
    assert height % 32 == 0 and tile % 32 == 0
    assert (img[:, tile:tile + 4] == 255).all()
    # instance colours differ from the raw frame: something was drawn
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 20


def test_browse_val_split_and_bad_input(kitti_root, tmp_path, capsys):
    from knet.utils.cli import run_cli
    script = str(CONFIGS.parents[2] / 'tools/analysis_tools/browse_dataset.py')
    import importlib.util
    spec = importlib.util.spec_from_file_location('browse', script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / 'val'
    assert mod.main([
        str(CONFIGS / 'kitti_step_vps.py'), '--output-dir', str(out),
        '--split', 'val', '--not-show', '--max', '2', '--cfg-options',
        f'val_dataloader.dataset.data_root={kitti_root}'
    ]) == 0
    assert sorted(os.listdir(out)) == ['00000_000002_0.png',
                                       '00001_000002_1.png']
    capsys.readouterr()
    rc = run_cli(mod.main, [str(tmp_path / 'missing.py'), '--output-dir',
                            str(out)])
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'missing.py' in err[0]
