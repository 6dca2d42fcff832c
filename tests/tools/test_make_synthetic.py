"""tools/dataset/make_synthetic.py: the CLI writes the same data as the API.

Run in-process (``main(argv)``): a subprocess would pay the mmdet import of
``knet.datasets`` again.
"""
import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

try:
    from _data_helpers import REPO
except ImportError:  # tests/tools became a package
    from tests.tools._data_helpers import REPO
from knet.datasets.synthetic import make_synthetic
from knet.utils.cli import UsageError, run_cli

SCRIPT = 'tools/dataset/make_synthetic.py'


def _main():
    spec = importlib.util.spec_from_file_location('make_synthetic_tool',
                                                  REPO / SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _digest(root):
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob('*'))
            if p.is_file() and p.name != 'manifest.json'}


def test_cli_kitti(tmp_path, capsys):
    assert _main()(['kitti-step', '--out', str(tmp_path / 'cli'),
                    '--videos', '3', '--frames', '2', '--size', '24', '40',
                    '--seed', '9', '--test-videos', '1']) == 0
    assert 'wrote synthetic kitti-step' in capsys.readouterr().out
    m = make_synthetic('kitti-step', tmp_path / 'api', videos=3, frames=2,
                       size=(24, 40), seed=9, test_videos=1)
    assert _digest(tmp_path / 'cli') == _digest(tmp_path / 'api')
    assert (tmp_path / 'cli/testing/image_02/0000/000001.png').is_file()
    saved = json.loads((tmp_path / 'cli' / 'manifest.json').read_text())
    assert saved['splits'] == m['splits']
    frame = saved['videos'][0]['frames'][0]
    assert 'semantic' not in frame and 'instance' not in frame
    assert Path(frame['image']).is_file()


@pytest.mark.parametrize('dataset', ['youtube_vis_2019', 'vipseg'])
def test_main_matches_api(tmp_path, dataset):
    argv = [dataset, '--out', str(tmp_path / 'cli'), '--videos', '2',
            '--frames', '2', '--size', '24', '40', '--seed', '4']
    if dataset == 'vipseg':
        argv += ['--layout', 'original']
    assert _main()(argv) == 0
    kw = dict(layout='original') if dataset == 'vipseg' else {}
    make_synthetic(dataset, tmp_path / 'api', videos=2, frames=2,
                   size=(24, 40), seed=4, **kw)
    assert _digest(tmp_path / 'cli') == _digest(tmp_path / 'api')


@pytest.mark.parametrize('argv, words', [
    (['kitti-step', '--videos', '0'], 'videos'),
    (['kitti-step', '--videos', '22'], '21'),
    (['cityscapes', '--test-videos', '1'], 'kitti-step'),
    (['coco_panoptic', '--layout', 'original'], 'vipseg'),
    (['kitti-step', '--size', '4', '4'], '--size'),
])
def test_bad_arguments_one_line(tmp_path, capsys, argv, words):
    main = _main()
    # 2: a bad command line (argparse's convention)
    assert run_cli(main, argv[:1] + ['--out', str(tmp_path)] + argv[1:]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1
    assert words in err


def test_unknown_dataset_usage_error(tmp_path, capsys):
    with pytest.raises(UsageError, match='nope'):
        _main()(['nope', '--out', str(tmp_path)])
    assert run_cli(_main(), ['nope', '--out', str(tmp_path)]) == 2
    assert 'invalid choice' in capsys.readouterr().err
