"""tools/dataset/refer2coco.py: REFER -> COCO JSON per split, round trip."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip('pycocotools')
from pycocotools.coco import COCO  # noqa: E402

from knet.datasets.refer import (REFER, REFER_DATASETS,  # noqa: E402
                                 REFER_SPLITS)
from knet.datasets.synthetic.refer import make_refer  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'dataset', 'refer2coco.py')


def _tool():
    spec = importlib.util.spec_from_file_location('refer2coco', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('r2c')
    for i, ds in enumerate(REFER_DATASETS):
        make_refer(ds, root, videos=1, frames=6, seed=10 + i)
    return root


def _convert(tool, root, ds, sb, out, per='sentence', extra=()):
    return tool.run_cli(tool.main, ['--data-root', str(root), '--dataset', ds,
                                    '--split-by', sb, '--out', str(out),
                                    '--per', per, *extra])


@pytest.mark.parametrize('ds,sb', sorted(REFER_SPLITS))
def test_every_combination_writes_every_split(data_root, tmp_path, ds, sb):
    tool = _tool()
    assert _convert(tool, data_root, ds, sb, tmp_path) == 0
    written = sorted(os.listdir(tmp_path))
    assert written == sorted(f'{ds}_{sb}_{s}.json'
                             for s in REFER_SPLITS[(ds, sb)])


@pytest.mark.parametrize('ds,sb', [('refcocog', 'umd'), ('refclef', 'unc')])
def test_round_trip_per_sentence(data_root, tmp_path, ds, sb):
    tool = _tool()
    assert _convert(tool, data_root, ds, sb, tmp_path) == 0
    refer = REFER(str(data_root), ds, sb)
    seen = set()
    for split in REFER_SPLITS[(ds, sb)]:
        path = tmp_path / f'{ds}_{sb}_{split}.json'
        doc = json.loads(path.read_text())
        info = doc['info']
        assert info['bbox_format'] == 'xywh' and info['per'] == 'sentence'
        assert (info['dataset'], info['splitBy'], info['split']) == \
            (ds, sb, split)
        coco = COCO(str(path))  # pycocotools reads it
        ref_ids = [r['ref_id'] for r in refer.data['refs']
                   if r['split'] == split]
        n_sent = sum(len(refer.Refs[r]['sentences']) for r in ref_ids)
        assert len(coco.anns) == n_sent == info['num_sentences']
        assert sorted(coco.imgs) == sorted(
            {refer.Refs[r]['image_id'] for r in ref_ids})
        assert [c['id'] for c in doc['categories']] == refer.getCatIds()
        for ann in coco.anns.values():
            ref = refer.Refs[ann['ref_id']]
            sent = refer.Sents[ann['sent_id']]
            assert refer.sentToRef[ann['sent_id']] is ref
            assert ann['sentence']['sent'] == sent['sent']
            assert ann['sentence']['raw'] == sent['raw']
            assert ann['sentence']['tokens'] == sent['tokens']
            assert ann['ann_id'] == ref['ann_id']
            assert ann['image_id'] == ref['image_id']
            assert ann['category_id'] == ref['category_id']
            assert ann['bbox'] == refer.getRefBox(ref['ref_id'])
            np.testing.assert_array_equal(coco.annToMask(ann),
                                          refer.getMask(ref)['mask'])
            seen.add(ann['sent_id'])
        assert len({a['id'] for a in doc['annotations']}) == \
            len(doc['annotations'])
    assert seen == set(refer.Sents)  # every expression exactly once
    # RLE segmentations are normalised to one compressed RLE for COCO
    if ds == 'refclef':
        doc = json.loads((tmp_path / f'{ds}_{sb}_train.json').read_text())
        assert all(isinstance(a['segmentation'], dict) and
                   isinstance(a['segmentation']['counts'], str)
                   for a in doc['annotations'])


def test_per_ref_and_selected_splits(data_root, tmp_path):
    tool = _tool()
    assert _convert(tool, data_root, 'refcoco', 'unc', tmp_path, per='ref',
                    extra=['--splits', 'testB', 'val']) == 0
    assert sorted(os.listdir(tmp_path)) == ['refcoco_unc_testB.json',
                                            'refcoco_unc_val.json']
    refer = REFER(str(data_root), 'refcoco', 'unc')
    doc = json.loads((tmp_path / 'refcoco_unc_testB.json').read_text())
    assert doc['info']['per'] == 'ref'
    assert [a['ref_id'] for a in doc['annotations']] == \
        refer.getRefIds(split='testB')
    for a in doc['annotations']:
        ref = refer.Refs[a['ref_id']]
        assert a['sent_ids'] == ref['sent_ids']
        assert [s['sent'] for s in a['sentences']] == \
            [s['sent'] for s in ref['sentences']]
        assert a['segmentation'] == refer.Anns[ref['ann_id']]['segmentation']


def test_bad_input_one_line_errors(data_root, tmp_path, capsys):
    tool = _tool()
    rc = _convert(tool, tmp_path / 'missing', 'refcoco', 'unc', tmp_path)
    err = capsys.readouterr().err
    assert rc == 1 and err.count('\n') == 1 and 'missing' in err
    rc = _convert(tool, data_root, 'refcoco', 'umd', tmp_path)
    err = capsys.readouterr().err
    assert rc == 1 and "no splitBy 'umd' for refcoco" in err
    rc = _convert(tool, data_root, 'refcoco', 'unc', tmp_path,
                  extra=['--splits', 'test'])
    err = capsys.readouterr().err
    assert rc == 1 and "no refs in split 'test'" in err
    assert 'refs(unc).p' in err and err.count('\n') == 1
    assert not list(tmp_path.glob('*.json'))


def test_cli_subprocess_and_help(tmp_path, capsys):
    """As a script: a broken refs pickle gives one line naming the file
    and exit 1, no traceback (the success path runs in-process above)."""
    bad_root = tmp_path / 'bad'
    (bad_root / 'refcocog').mkdir(parents=True)
    (bad_root / 'refcocog' / 'refs(umd).p').write_bytes(b'\x80\x02]q')
    (bad_root / 'refcocog' / 'instances.json').write_text('{}')
    proc = subprocess.run(
        [sys.executable, TOOL, '--data-root', str(bad_root), '--dataset',
         'refcocog', '--split-by', 'umd', '--out', str(tmp_path / 'out')],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.count('\n') == 1 and 'Traceback' not in proc.stderr
    assert 'refs(umd).p: cannot unpickle' in proc.stderr
    assert not (tmp_path / 'out').exists()
    with pytest.raises(SystemExit) as exc:
        _tool().parse_args(['--help'])
    assert exc.value.code == 0 and '--per' in capsys.readouterr().out
