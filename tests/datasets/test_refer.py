"""REFER API on synthetic trees in the exact released format."""
import io
import json
import pickle
import pickletools

import numpy as np
import pytest

pytest.importorskip('pycocotools')
from pycocotools import mask as mask_api  # noqa: E402

from knet.datasets.refer import (REFER, REFER_DATASETS,  # noqa: E402
                                 REFER_SPLITS, load_refs_pickle)
from knet.datasets.synthetic.refer import (dump_py2_pickle,  # noqa: E402
                                           make_refer, to_py2_strings,
                                           write_refs_pickle)

COMBOS = sorted(REFER_SPLITS)


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    """One synthetic data_root holding all four datasets."""
    root = tmp_path_factory.mktemp('refer')
    manifests = {ds: make_refer(ds, root, seed=i)
                 for i, ds in enumerate(REFER_DATASETS)}
    return root, manifests


def _refer(trees, ds, sb):
    root, manifests = trees
    return REFER(str(root), ds, sb), manifests[ds]


# ------------------------------------------------------------- loading/index
@pytest.mark.parametrize('ds,sb', COMBOS)
def test_every_combination_loads_with_all_splits(trees, ds, sb):
    refer, man = _refer(trees, ds, sb)
    info = man['split_bys'][sb]
    assert len(refer.Refs) == len(info['refs'])
    assert refer.IMAGE_DIR == man['image_dir']
    # every split name released for this splitBy, exact membership
    for split in REFER_SPLITS[(ds, sb)]:
        assert info['splits'][split], f'synthetic {split} is empty'
        if split == 'test':  # berkeley/google/umd 'test' split
            continue
        assert refer.getRefIds(split=split) == info['splits'][split]
    test_ids = sorted(i for s, ids in info['splits'].items()
                      if 'test' in s for i in ids)
    assert sorted(refer.getRefIds(split='test')) == test_ids
    # the refs read back equal the refs written (py2 pickle, bytes decoded)
    assert refer.data['refs'] == info['refs']
    n_sent = sum(len(v) for v in info['sentences'].values())
    assert len(refer.Sents) == len(refer.sentToRef) == n_sent


@pytest.mark.parametrize('ds,sb', [('refcoco', 'unc'), ('refclef', 'unc')])
def test_index_cross_references(trees, ds, sb):
    refer, man = _refer(trees, ds, sb)
    for ref in refer.data['refs']:
        rid = ref['ref_id']
        assert refer.refToAnn[rid]['id'] == ref['ann_id']
        assert refer.annToRef[ref['ann_id']] is ref
        assert ref in refer.imgToRefs[ref['image_id']]
        assert ref in refer.catToRefs[ref['category_id']]
        for s in ref['sentences']:
            assert refer.sentToRef[s['sent_id']] is ref
            assert refer.sentToTokens[s['sent_id']] == s['tokens']
            assert refer.Sents[s['sent_id']] is s
    assert set(refer.Imgs) == set(man['images'])
    assert set(refer.Anns) == set(man['anns'])
    assert refer.Cats == man['categories']


# ------------------------------------------------------------------- queries
def test_get_ref_ids_filters(trees):
    refer, man = _refer(trees, 'refcoco', 'unc')
    refs = man['split_bys']['unc']['refs']
    img_a, img_b = refs[0]['image_id'], refs[-1]['image_id']
    on_a = [r['ref_id'] for r in refs if r['image_id'] == img_a]
    on_b = [r['ref_id'] for r in refs if r['image_id'] == img_b]
    assert len(on_a) >= 2
    # image_ids: broken in the original (list of lists); any id type works
    assert refer.getRefIds(image_ids=img_a) == on_a
    assert refer.getRefIds(image_ids=np.int64(img_a)) == on_a
    assert refer.getRefIds(image_ids=[img_a, img_b]) == on_a + on_b
    assert refer.getRefIds(image_ids=(img_a, img_b)) == on_a + on_b
    assert refer.getRefIds(image_ids=np.array([img_a, img_b])) == on_a + on_b
    assert refer.getRefIds(image_ids=[123456789]) == []
    # cat_ids
    cat = refs[0]['category_id']
    assert refer.getRefIds(cat_ids=cat) == [r['ref_id'] for r in refs
                                            if r['category_id'] == cat]
    assert refer.getRefIds(cat_ids=[cat], image_ids=img_a) == \
        [r['ref_id'] for r in refs
         if r['category_id'] == cat and r['image_id'] == img_a]
    # ref_ids keep the refs' order; unknown ids drop out
    assert refer.getRefIds(ref_ids=(3, 1, 999)) == [1, 3]
    assert refer.getRefIds(ref_ids=np.int32(2)) == [2]
    # split combined with image filter
    split = refs[0]['split']
    assert refer.getRefIds(image_ids=img_a, split=split) == on_a
    other = 'val' if split != 'val' else 'train'
    assert refer.getRefIds(image_ids=img_a, split=other) == []
    # no filter = all refs in file order
    assert refer.getRefIds() == [r['ref_id'] for r in refs]


def test_bad_split_raises_value_error(trees):
    refer, _ = _refer(trees, 'refcoco', 'unc')
    for bad in ('TRAIN', 'testD', 'validation'):
        with pytest.raises(ValueError, match='no such split'):
            refer.getRefIds(split=bad)


def test_split_substring_semantics(tmp_path):
    """testA/B/C match every test split containing the letter; 'test'
    matches every test split; testAB etc. and train/val are exact."""
    make_refer('refclef', tmp_path, videos=1, frames=8, seed=3,
               split_bys=['unc'])
    path = tmp_path / 'refclef' / 'refs(unc).p'
    refs = load_refs_pickle(str(path))
    names = ['train', 'val', 'testA', 'testB', 'testC', 'testAB', 'testBC',
             'testAC']
    for i, ref in enumerate(refs):
        ref['split'] = names[i % len(names)]
    write_refs_pickle(path, refs)
    refer = REFER(str(tmp_path), 'refclef', 'unc')

    def ids(*splits):
        return [r['ref_id'] for r in refs if r['split'] in splits]

    assert refer.getRefIds(split='testA') == ids('testA', 'testAB', 'testAC')
    assert refer.getRefIds(split='testB') == ids('testB', 'testAB', 'testBC')
    assert refer.getRefIds(split='testC') == ids('testC', 'testBC', 'testAC')
    assert refer.getRefIds(split='test') == ids(*names[2:])
    for exact in ('train', 'val', 'testAB', 'testBC', 'testAC'):
        assert refer.getRefIds(split=exact) == ids(exact)


def test_get_ann_ids(trees):
    refer, man = _refer(trees, 'refcoco', 'unc')
    inst = json.loads((trees[0] / 'refcoco' / 'instances.json').read_text())
    all_ids = [a['id'] for a in inst['annotations']]
    assert refer.getAnnIds() == all_ids
    img = inst['images'][0]['id']
    on_img = [a['id'] for a in inst['annotations'] if a['image_id'] == img]
    assert len(on_img) == 3  # two objects + the crowd region
    assert refer.getAnnIds(image_ids=img) == on_img
    assert refer.getAnnIds(image_ids=np.uint16(img) if img < 65536
                           else np.int64(img)) == on_img
    cat = inst['annotations'][0]['category_id']
    assert refer.getAnnIds(cat_ids=cat) == [
        a['id'] for a in inst['annotations'] if a['category_id'] == cat]
    # ref_ids: ignored by the original; here they filter
    refs = man['split_bys']['unc']['refs']
    assert refer.getAnnIds(ref_ids=refs[4]['ref_id']) == [refs[4]['ann_id']]
    assert refer.getAnnIds(ref_ids=[refs[5]['ref_id'], refs[1]['ref_id']]) \
        == [refs[1]['ann_id'], refs[5]['ann_id']]  # instances order
    assert refer.getAnnIds(image_ids=refs[0]['image_id'],
                           ref_ids=refs[-1]['ref_id']) == []
    assert refer.getAnnIds(image_ids=[987654321]) == []


def test_get_img_and_cat_ids(trees):
    refer, man = _refer(trees, 'refcocog', 'umd')
    assert refer.getImgIds() == list(man['images'])
    refs = man['split_bys']['umd']['refs']
    same_img = [r['ref_id'] for r in refs
                if r['image_id'] == refs[0]['image_id']]
    assert refer.getImgIds(ref_ids=same_img) == [refs[0]['image_id']]
    assert refer.getImgIds(ref_ids=np.array([refs[-1]['ref_id'], 0])) == [
        refs[-1]['image_id'], refs[0]['image_id']]
    assert refer.getImgIds(ref_ids=refs[2]['ref_id']) == [
        refs[2]['image_id']]
    assert refer.getCatIds() == list(man['categories'])


def test_load_methods_accept_any_id_type(trees):
    refer, man = _refer(trees, 'refcoco+', 'unc')
    refs = man['split_bys']['unc']['refs']
    assert refer.loadRefs(2) == [refs[2]]
    assert refer.loadRefs(np.int64(2)) == [refs[2]]  # original: None
    assert refer.loadRefs((1, 2)) == [refs[1], refs[2]]  # original: KeyError
    assert refer.loadRefs([]) == []
    ann_id = refs[0]['ann_id']
    (ann,) = refer.loadAnns(np.int64(ann_id))
    assert ann['id'] == ann_id and ann['image_id'] == refs[0]['image_id']
    img_id = refs[0]['image_id']
    (img,) = refer.loadImgs(np.int32(img_id))
    assert img['file_name'] == f'COCO_train2014_{img_id:012d}.jpg'
    assert refer.loadImgs([img_id, img_id]) == [img, img]
    cats = man['categories']
    ids = list(cats)[:2]
    assert refer.loadCats(tuple(ids)) == [cats[i] for i in ids]
    assert refer.loadCats(np.int64(ids[0])) == [cats[ids[0]]]
    assert refer.loadCats(ids[0]) == [cats[ids[0]]]
    with pytest.raises(KeyError):
        refer.loadRefs(10 ** 6)


def test_get_ref_box(trees):
    refer, man = _refer(trees, 'refclef', 'berkeley')
    for ref in man['split_bys']['berkeley']['refs']:
        assert refer.getRefBox(ref['ref_id']) == \
            man['anns'][ref['ann_id']]['bbox']
    # the box of an RLE object is the tight box of its pixels
    ref = man['split_bys']['berkeley']['refs'][0]
    m = man['anns'][ref['ann_id']]['mask']
    ys, xs = np.nonzero(m)
    assert refer.getRefBox(np.int64(ref['ref_id'])) == [
        xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]


# --------------------------------------------------------------------- masks
def _coco_decode_union(segm, h, w):
    """Independent route: decode every part with pycocotools, OR them."""
    if isinstance(segm, dict):
        segm = [segm]
    parts = []
    for p in segm:
        if isinstance(p, dict):
            r = p if isinstance(p['counts'], str) else \
                mask_api.frPyObjects(p, h, w)
            if isinstance(r['counts'], str):
                r = dict(r, counts=r['counts'].encode())
        else:
            r = mask_api.frPyObjects([p], h, w)[0]
        parts.append(mask_api.decode(r))
    return np.any(np.stack(parts), axis=0).astype(np.uint8)


@pytest.mark.parametrize('ds,sb', COMBOS)
def test_get_mask_equals_pycocotools_decode(trees, ds, sb):
    refer, man = _refer(trees, ds, sb)
    kinds = set()
    for ref in refer.data['refs']:
        ann = refer.Anns[ref['ann_id']]
        img = refer.Imgs[ref['image_id']]
        out = refer.getMask(ref)
        m = out['mask']
        assert m.dtype == np.uint8 and m.shape == (img['height'],
                                                   img['width'])
        expected = _coco_decode_union(ann['segmentation'], img['height'],
                                      img['width'])
        np.testing.assert_array_equal(m, expected)
        np.testing.assert_array_equal(m, man['anns'][ann['id']]['mask'])
        assert out['area'] == int(expected.sum())
        kinds.add(man['anns'][ann['id']]['kind'])
    if ds == 'refclef':
        assert kinds == {'rle', 'rle_dict', 'rle_uncompressed'}
    else:
        assert kinds == {'polygon'}


def test_overlapping_parts_give_binary_union(trees):
    """The original summed the parts (pixels of value 2); here: union."""
    refer, _ = _refer(trees, 'refcoco', 'unc')
    for ref in refer.data['refs']:
        segm = refer.Anns[ref['ann_id']]['segmentation']
        if len(segm) == 2:
            img = refer.Imgs[ref['image_id']]
            a, b = (mask_api.decode(mask_api.frPyObjects([p], img['height'],
                                                         img['width'])[0])
                    for p in segm)
            assert np.logical_and(a, b).any()  # the parts do overlap
            m = refer.getMask(ref)['mask']
            assert m.max() == 1
            assert refer.getMask(ref)['area'] == int(np.logical_or(a, b).sum())
            break
    else:
        pytest.fail('no two-part object in the synthetic data')


def _tiny_tree(root, segmentation, h=10, w=12, ann_id=7, extra_refs=()):
    (root / 'refcoco').mkdir(parents=True)
    inst = {'images': [{'id': 5, 'file_name': 'COCO_train2014_'
                        '000000000005.jpg', 'height': h, 'width': w}],
            'annotations': [{'id': ann_id, 'image_id': 5, 'category_id': 1,
                             'segmentation': segmentation, 'area': 0,
                             'iscrowd': 0, 'bbox': [2, 3, 4, 5]}],
            'categories': [{'id': 1, 'name': 'person'}]}
    (root / 'refcoco' / 'instances.json').write_text(json.dumps(inst))
    refs = [{'ref_id': 0, 'ann_id': ann_id, 'image_id': 5,
             'category_id': 1, 'split': 'train', 'sent_ids': [0],
             'sentences': [{'tokens': ['man'], 'raw': 'man', 'sent': 'man',
                            'sent_id': 0}]}] + list(extra_refs)
    write_refs_pickle(root / 'refcoco' / 'refs(unc).p', refs)
    return REFER(str(root), 'refcoco', 'unc')


def test_rectangle_polygon_mask_by_hand(tmp_path):
    # COCO rasterises an integer rectangle x0..x1, y0..y1 to [y0:y1, x0:x1]
    refer = _tiny_tree(tmp_path, [[2, 3, 6, 3, 6, 8, 2, 8]])
    out = refer.getMask(refer.Refs[0])
    expected = np.zeros((10, 12), np.uint8)
    expected[3:8, 2:6] = 1
    np.testing.assert_array_equal(out['mask'], expected)
    assert out['area'] == 20


def test_get_mask_by_ref(tmp_path):
    no_target = {'ref_id': 1, 'ann_id': [-1], 'image_id': 5,
                 'category_id': 1, 'split': 'val', 'sent_ids': [1],
                 'sentences': [{'tokens': ['nothing'], 'raw': 'nothing',
                                'sent': 'nothing', 'sent_id': 1}]}
    refer = _tiny_tree(tmp_path, [[1, 1, 4, 1, 4, 3, 1, 3]],
                       extra_refs=[no_target])
    expected = np.zeros((10, 12), np.uint8)
    expected[1:3, 1:4] = 1
    (single,) = refer.getMaskByRef(ref_id=0)
    np.testing.assert_array_equal(single['mask'], expected)
    assert single['area'] == 6
    merged = refer.getMaskByRef(refer.Refs[0], merge=True)
    np.testing.assert_array_equal(merged['mask'], expected)
    assert merged['empty'] is False
    empty = refer.getMaskByRef(ref_id=np.int64(1), merge=True)
    assert empty['empty'] is True and empty['mask'].shape == (10, 12)
    assert not empty['mask'].any()
    assert refer.getAnnIds(ref_ids=1) == []  # -1 is no annotation
    with pytest.raises(ValueError):
        refer.getMaskByRef()
    # getMask also takes an annotation (gRefCOCO style)
    np.testing.assert_array_equal(refer.getMask(refer.Anns[7])['mask'],
                                  expected)


# ------------------------------------------------------------------- display
@pytest.mark.parametrize('ds,sb', [('refcoco', 'google'), ('refclef', 'unc')])
def test_show_ref_headless(trees, ds, sb, capsys):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    refer, _ = _refer(trees, ds, sb)
    ref = refer.data['refs'][1]
    fig = plt.figure()
    try:
        ax = refer.showRef(ref, seg_box='seg')
        assert ax is plt.gca()
        img = refer.Imgs[ref['image_id']]
        assert ax.images[0].get_array().shape[:2] == (img['height'],
                                                      img['width'])
        if ds == 'refclef':  # RLE: a translucent overlay image
            assert len(ax.images) == 2
            alpha = ax.images[1].get_array()[..., 3]
            np.testing.assert_allclose(
                alpha, 0.5 * refer.getMask(ref)['mask'])
        else:  # polygons: yellow + red outlines
            assert len(ax.collections) == 2
        printed = capsys.readouterr().out.splitlines()
        assert printed == [f'{i + 1}. {s["sent"]}'
                           for i, s in enumerate(ref['sentences'])]
        ax2 = fig.add_subplot(1, 2, 2)
        refer.showRef(ref, seg_box='box', ax=ax2)
        (rect,) = ax2.patches
        x, y, w, h = refer.getRefBox(ref['ref_id'])
        assert (rect.get_x(), rect.get_y(), rect.get_width(),
                rect.get_height()) == (x, y, w, h)
        ax3 = refer.showMask(ref, ax=fig.add_subplot(2, 2, 4))
        np.testing.assert_array_equal(ax3.images[0].get_array(),
                                      refer.getMask(ref)['mask'])
        with pytest.raises(ValueError, match='seg_box'):
            refer.showRef(ref, seg_box='outline')
        fig.canvas.draw()  # renders with Agg
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- bad inputs
def test_bad_dataset_split_by_and_missing_files(trees, tmp_path):
    root = str(trees[0])
    with pytest.raises(ValueError, match='no referring dataset'):
        REFER(root, 'refcocoX', 'unc')
    with pytest.raises(ValueError, match="no splitBy 'google' for refcoco\\+"):
        REFER(root, 'refcoco+', 'google')
    with pytest.raises(FileNotFoundError, match=r'refs\(unc\)\.p'):
        REFER(str(tmp_path), 'refcoco', 'unc')
    (tmp_path / 'refcoco').mkdir()
    (tmp_path / 'refcoco' / 'refs(unc).p').write_bytes(b'not a pickle')
    (tmp_path / 'refcoco' / 'instances.json').write_text('{}')
    with pytest.raises(ValueError, match=r'refs\(unc\)\.p: cannot unpickle'):
        REFER(str(tmp_path), 'refcoco', 'unc')


# ------------------------------------------------------------ pickle formats
REFS = [{'sent_ids': [0, 1], 'file_name': 'COCO_train2014_000000000009_4.jpg',
         'ann_id': 1719310, 'ref_id': 0, 'image_id': 581857,
         'split': 'testB', 'category_id': 1,
         'sentences': [{'tokens': ['caf\u00e9', 'man'],
                        'raw': 'Caf\u00e9 man, "left"\n',
                        'sent_id': 0, 'sent': 'caf\u00e9 man left'},
                       {'tokens': ['it'], 'raw': "it's", 'sent_id': 1,
                        'sent': "it's"}]},
        {'sent_ids': [2], 'file_name': 'x.jpg', 'ann_id': 3, 'ref_id': 1,
         'image_id': 9, 'split': 'train', 'category_id': 18,
         'sentences': [{'tokens': [], 'raw': '', 'sent_id': 2, 'sent': ''}]}]


def test_handwritten_python2_pickle(tmp_path):
    """Bytes as Python 2.7's cPickle.dumps(obj, 2) wrote them for
    [{'split': 'train', 'ref_id': 3, 'raw': 'caf\\xc3\\xa9'}] (py2 str =
    UTF-8 bytes), typed in by hand, not produced by our emulator."""
    data = (b'\x80\x02]q\x00}q\x01(U\x05splitq\x02U\x05trainq\x03'
            b'U\x06ref_idq\x04K\x03U\x03rawq\x05U\x05caf\xc3\xa9q\x06ua.')
    path = tmp_path / 'refs(unc).p'
    path.write_bytes(data)
    assert load_refs_pickle(str(path)) == [
        {'split': 'train', 'ref_id': 3, 'raw': 'caf\u00e9'}]
    # what plain Python 3 loading does with it
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(data)
    assert pickle.loads(data, encoding='latin1')[0]['raw'] == 'caf\u00c3\u00a9'
    # our emulator writes the same bytes
    buf = io.BytesIO()
    dump_py2_pickle([{b'split': b'train', b'ref_id': 3,
                      b'raw': 'caf\u00e9'.encode()}], buf, protocol=2)
    assert buf.getvalue() == data


@pytest.mark.parametrize('protocol', [0, 2])
@pytest.mark.parametrize('text_as_bytes', [True, False])
def test_python2_pickles_load(tmp_path, protocol, text_as_bytes):
    path = tmp_path / 'refs(unc).p'
    write_refs_pickle(path, REFS, style='py2', protocol=protocol,
                      text_as_bytes=text_as_bytes)
    raw = pickle.loads(path.read_bytes(), encoding='bytes')
    assert set(raw[0]) == {k.encode() for k in REFS[0]}  # keys: py2 str
    assert isinstance(raw[0][b'split'], bytes if text_as_bytes else str)
    assert load_refs_pickle(str(path)) == REFS
    if text_as_bytes:  # non-ASCII byte str: Python 3's default refuses
        with pytest.raises(UnicodeDecodeError):
            pickle.loads(path.read_bytes())


def test_python2_stream_uses_cpickle_opcodes_and_memo():
    buf = io.BytesIO()
    dump_py2_pickle(to_py2_strings(REFS), buf, protocol=2)
    ops = [op.name for op, _, _ in pickletools.genops(buf.getvalue())]
    assert ops[0] == 'PROTO' and ops[-1] == 'STOP'
    assert 'SHORT_BINSTRING' in ops and 'BININT' in ops
    assert 'BINGET' in ops  # repeated keys come from the memo, as cPickle
    assert 'BINUNICODE' not in ops and 'BINBYTES' not in ops
    buf = io.BytesIO()
    dump_py2_pickle(to_py2_strings(REFS[1:], text_as_bytes=True), buf, 0)
    ops = {op.name for op, _, _ in pickletools.genops(buf.getvalue())}
    assert {'MARK', 'LIST', 'DICT', 'STRING', 'INT', 'PUT', 'GET',
            'SETITEM', 'APPEND'} <= ops


def test_python3_pickles_load(tmp_path):
    path = tmp_path / 'refs(unc).p'
    for protocol in (2, 4, pickle.HIGHEST_PROTOCOL):
        write_refs_pickle(path, REFS, style='py3', protocol=protocol)
        assert load_refs_pickle(str(path)) == REFS
    # bytes values written by Python 3 are decoded too
    with open(path, 'wb') as f:
        pickle.dump([{'split': b'val', 'raw': 'caf\u00e9'.encode()}], f)
    assert load_refs_pickle(str(path)) == [{'split': 'val',
                                            'raw': 'caf\u00e9'}]
    # Latin-1 byte strings that are not UTF-8 fall back to Latin-1
    with open(path, 'wb') as f:
        pickle.dump([{'raw': b'caf\xe9'}], f)
    assert load_refs_pickle(str(path)) == [{'raw': 'caf\u00e9'}]


def test_python3_style_tree_equals_python2_tree(tmp_path):
    a = make_refer('refcocog', tmp_path / 'a', seed=5, pickle_style='py3')
    b = make_refer('refcocog', tmp_path / 'b', seed=5, pickle_style='py2',
                   pickle_protocol=0)
    ra = REFER(str(tmp_path / 'a'), 'refcocog', 'google')
    rb = REFER(str(tmp_path / 'b'), 'refcocog', 'google')
    assert ra.data['refs'] == rb.data['refs'] == \
        a['split_bys']['google']['refs'] == b['split_bys']['google']['refs']


def test_make_synthetic_dispatch(tmp_path):
    synthetic = pytest.importorskip('knet.datasets.synthetic')
    man = synthetic.make_synthetic('refcoco', tmp_path, videos=1, frames=4,
                                   seed=2)
    assert (tmp_path / 'refcoco' / 'refs(unc).p').is_file()
    assert (tmp_path / 'refcoco' / 'refs(google).p').is_file()
    assert len(man['images']) == 4
    refer = REFER(str(tmp_path), 'refcoco', 'google')
    for img in refer.Imgs.values():
        assert (tmp_path / 'images/mscoco/images/train2014' /
                img['file_name']).is_file()


def test_module_cli_writes_a_tree(tmp_path, capsys):
    from knet.datasets.synthetic.refer import _main
    assert _main(['refclef', '--out', str(tmp_path), '--images', '5',
                  '--pickle-style', 'py3']) == 0
    refer = REFER(str(tmp_path), 'refclef', 'berkeley')
    assert len(refer.Imgs) == 5
    assert 'wrote refclef' in capsys.readouterr().out
    assert _main(['dynrefer', '--out', str(tmp_path / 'dyn'),
                  '--images', '2']) == 0
    assert len(list((tmp_path / 'dyn' / 'vg' / 'images').iterdir())) == 2
