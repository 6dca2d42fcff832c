"""Synthetic VIPSeg: official layouts, value encoding, split files."""
import numpy as np
from PIL import Image

from knet.datasets.synthetic import make_synthetic


def test_720p_layout_and_encoding(tmp_path):
    m = make_synthetic('vipseg', tmp_path, videos=3, frames=3,
                       size=(40, 64), seed=2, test_videos=1)
    splits = {s: (tmp_path / f'{s}.txt').read_text().split()
              for s in ('train', 'val', 'test')}
    assert splits == m['splits']
    assert len(splits['train']) == 2 and len(splits['val']) == 1
    assert len(splits['test']) == 1
    test_name = splits['test'][0]
    assert (tmp_path / 'images' / test_name).is_dir()
    assert not (tmp_path / 'panomasks' / test_name).exists()
    repeated = False
    for video in m['videos']:
        if video['split'] == 'test':
            continue
        values_in_video = set()
        for f in video['frames']:
            assert f['image'].endswith('.jpg')
            img = np.array(Image.open(f['image']))
            assert img.shape == (40, 64, 3)
            pil = Image.open(f['label'])
            raw = np.array(pil)
            assert raw.ndim == 2 and raw.dtype == np.uint16  # 16-bit PNG
            np.testing.assert_array_equal(raw, f['panomask'])
            v = raw.astype(np.int64)
            # independent decoding of the official rule
            for value in np.unique(v):
                where = v == value
                if value == 0:
                    assert (f['semantic'][where] == 255).all()
                    assert (f['instance'][where] == -1).all()
                elif value < 125:
                    assert (f['semantic'][where] == value - 1).all()
                else:
                    assert (f['semantic'][where] == value // 100 - 1).all()
                    assert (f['instance'][where] == value % 100).all()
                    assert value in video['things']
            values_in_video |= set(np.unique(v).tolist())
            assert not f['crowd'].any()
            np.testing.assert_array_equal(f['void'], v == 0)
        things = [x for x in values_in_video if x >= 125]
        cats = [x // 100 for x in things]
        repeated |= len(cats) != len(set(cats))
        # an instance with number 0 exists (6100-style; not crowd in VIPSeg)
        assert any(x % 100 == 0 for x in things)
    assert repeated, 'two instances of one category in some video'


def test_original_layout_and_determinism(tmp_path):
    a = make_synthetic('vipseg', tmp_path / 'a', videos=2, frames=2,
                       size=(32, 48), seed=7, layout='original')
    b = make_synthetic('vipseg', tmp_path / 'b', videos=2, frames=2,
                       size=(32, 48), seed=7, layout='original')
    assert (tmp_path / 'a' / 'imgs').is_dir()
    assert not (tmp_path / 'a' / 'images').exists()
    for va, vb in zip(a['videos'], b['videos']):
        assert va['name'] == vb['name']
        for fa, fb in zip(va['frames'], vb['frames']):
            assert open(fa['image'], 'rb').read() == \
                open(fb['image'], 'rb').read()
            np.testing.assert_array_equal(fa['panomask'], fb['panomask'])
