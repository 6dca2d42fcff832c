"""check_data checkers for the REFER family and the DynRefer tree."""
import json
import shutil

import numpy as np
import pytest

pytest.importorskip('pycocotools')

from knet.datasets.checkers.base import CheckReport, get_checker  # noqa: E402
from knet.datasets.refer import REFER_DATASETS, REFER_SPLITS  # noqa: E402
from knet.datasets.synthetic.refer import make_dynrefer, make_refer  # noqa


def _run(name, root, **kw):
    report = CheckReport(name, root)
    get_checker(name)(root, report, **kw)
    return report


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / 'data'
    mans = {ds: make_refer(ds, root, videos=1, frames=6, seed=i)
            for i, ds in enumerate(REFER_DATASETS)}
    return root, mans


@pytest.mark.parametrize('ds', sorted(REFER_DATASETS))
def test_complete_tree_passes_with_counts(tree, ds):
    root, mans = tree
    report = _run(ds, root, full=True)
    assert report.ok, [str(e) for e in report.errors]
    assert report.warnings == []
    for sb in REFER_DATASETS[ds]:
        info = mans[ds]['split_bys'][sb]
        for split in REFER_SPLITS[(ds, sb)]:
            key = f'{sb}/{split}'
            assert report.counts[(key, 'refs')] == len(info['splits'][split])
            assert report.counts[(key, 'sentences')] == \
                len(info['sentences'][split])
            assert report.counts[(key, 'images')] == \
                len(info['images'][split])
    assert report.counts[('all', 'images')] == 6
    # the dataset folder itself is accepted as root too
    assert _run(ds, root / ds).ok


def test_missing_pickle_is_an_error(tree):
    root, _ = tree
    (root / 'refcocog' / 'refs(umd).p').unlink()
    report = _run('refcocog', root)
    assert not report.ok
    (err,) = report.errors
    assert err.path.endswith('refcocog/refs(umd).p')
    assert 'umd' in err.message and 'refcocog.zip' in err.fix
    assert _run('refcoco', root).ok  # other datasets unaffected


def test_missing_image_is_an_error(tree):
    root, mans = tree
    victim = sorted(mans['refclef']['images'].values(),
                    key=lambda im: im['id'])[3]
    (root / 'images' / 'saiapr_tc-12' / victim['file_name']).unlink()
    report = _run('refclef', root, sample=100)
    (err,) = report.errors
    assert err.path.endswith(victim['file_name'])
    assert 'missing' in err.message and 'saiapr_tc-12' in err.fix
    shutil.rmtree(root / 'images' / 'mscoco')
    (err,) = _run('refcoco+', root).errors
    assert err.path.endswith('images/mscoco/images/train2014')
    assert 'ln -s' in err.fix


def test_bad_instances_and_refs(tree):
    root, _ = tree
    (root / 'refcoco' / 'instances.json').write_text('{"images": [')
    errs = _run('refcoco', root).errors
    assert any(e.path.endswith('refcoco/instances.json') and
               'invalid' in e.message for e in errs)
    # a ref pointing to an annotation that is not in instances.json
    inst_path = root / 'refcoco+' / 'instances.json'
    inst = json.loads(inst_path.read_text())
    inst['annotations'] = inst['annotations'][1:]
    inst_path.write_text(json.dumps(inst))
    errs = _run('refcoco+', root).errors
    assert any('missing from instances.json' in e.message for e in errs)


def test_full_check_compares_image_sizes(tree):
    from PIL import Image
    root, mans = tree
    im = next(iter(mans['refcocog']['images'].values()))
    Image.fromarray(np.zeros((5, 7, 3), np.uint8)).save(im['path'])
    assert _run('refcocog', root).ok  # quick mode reads no pixels
    (err,) = _run('refcocog', root, full=True).errors
    assert 'size 5x7' in err.message


def test_missing_dataset_folder(tmp_path):
    (err,) = _run('refclef', tmp_path).errors
    assert 'refclef folder not found' in err.message


# ------------------------------------------------------------------ DynRefer
def test_dynrefer_complete_tree(tmp_path):
    man = make_dynrefer(tmp_path / 'data', images=3)
    report = _run('dynrefer', tmp_path / 'data', full=True)
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts[('vg', 'images')] == 3
    assert report.counts[('refcoco/refcocog_val.json', 'regions')] == 3
    assert report.counts[('vg', 'annotation files')] == 2
    # the DynRefer checkout (holding data/) is accepted as root too
    assert _run('dynrefer', tmp_path).ok
    assert len(man['coco2017']['images']) == 3


def test_dynrefer_missing_pieces(tmp_path):
    man = make_dynrefer(tmp_path, images=2)
    shutil.rmtree(tmp_path / 'coco2017' / 'dynrefer')
    (tmp_path / 'refcoco' / 'images' /
     man['refcoco']['images'][1].rsplit('/', 1)[1]).unlink()
    report = _run('dynrefer', tmp_path)  # quick: no JSON parsing
    (err,) = report.errors
    assert err.path.endswith('coco2017/dynrefer')
    assert 'data.zip' in err.fix
    report = _run('dynrefer', tmp_path, full=True)
    img_errs = [e for e in report.errors if '/refcoco/images/' in e.path]
    assert sorted(e.message for e in img_errs) == [
        f'image named by dynrefer/refcocog_{s}.json missing (1 of 2)'
        for s in ('train', 'val')]
    shutil.rmtree(tmp_path / 'vg' / 'images')
    errs = _run('dynrefer', tmp_path).errors
    assert any(e.path.endswith('vg/images') and 'VG/images' in e.fix
               for e in errs)
