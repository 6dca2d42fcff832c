"""Synthetic KITTI-STEP: official layout, legal labels, persistence, seeds."""
import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from knet.datasets.synthetic import make_synthetic


def _read(path):
    return np.array(Image.open(path))


def _digest(root):
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob('*.png'))}


def test_layout_and_truth(tmp_path):
    m = make_synthetic('kitti-step', tmp_path, videos=3, frames=3,
                       size=(40, 72), seed=1, test_videos=1)
    # official layout and split membership (sequence 2 is a val sequence)
    for seq, split in ((0, 'train'), (1, 'train'), (2, 'val')):
        for t in range(3):
            assert (tmp_path / f'training/image_02/{seq:04d}/{t:06d}.png'
                    ).is_file()
            assert (tmp_path / f'panoptic_maps/{split}/{seq:04d}/{t:06d}.png'
                    ).is_file()
    assert (tmp_path / 'testing/image_02/0000/000002.png').is_file()
    assert m['splits'] == {'train': ['0000', '0001'], 'val': ['0002'],
                           'test': ['0000']}
    ids_seen = set()
    for video in m['videos']:
        if video['split'] == 'test':
            assert all(f['label'] is None for f in video['frames'])
            continue
        first_class = {}
        for f in video['frames']:
            img = _read(f['image'])
            assert img.shape == (40, 72, 3) and img.dtype == np.uint8
            rgb = _read(f['label']).astype(np.int64)
            assert rgb.shape == (40, 72, 3)
            sem = rgb[..., 0]
            ins = rgb[..., 1] * 256 + rgb[..., 2]  # independent decoding
            np.testing.assert_array_equal(sem, f['semantic'])
            np.testing.assert_array_equal(ins, f['instance'])
            assert set(np.unique(sem)) <= set(range(19)) | {255}
            things = (sem == 11) | (sem == 13)
            assert not (ins[~things]).any(), 'instances only on things'
            # crowd = thing pixels with instance 0; void = 255
            np.testing.assert_array_equal(f['crowd'], things & (ins == 0))
            np.testing.assert_array_equal(f['void'], sem == 255)
            assert f['crowd'].any() and f['void'].any()
            for i in np.unique(ins[ins > 0]):
                cls = set(np.unique(sem[ins == i]))
                assert len(cls) == 1
                assert first_class.setdefault(int(i), cls.pop()) == \
                    next(iter(set(np.unique(sem[ins == i]))))
                ids_seen.add(int(i))
        # most things are visible in every frame (they persist over time)
        counts = {i: sum(int((f['instance'] == i).any())
                         for f in video['frames']) for i in first_class}
        assert sum(c == len(video['frames']) for c in counts.values()) >= 2
    assert max(ids_seen) > 255, 'the G channel must be exercised'


def test_deterministic_by_seed(tmp_path):
    kw = dict(videos=2, frames=2, size=(32, 48))
    make_synthetic('kitti-step', tmp_path / 'a', seed=3, **kw)
    make_synthetic('kitti-step', tmp_path / 'b', seed=3, **kw)
    make_synthetic('kitti-step', tmp_path / 'c', seed=4, **kw)
    a, b, c = (_digest(tmp_path / x) for x in 'abc')
    assert a == b and len(a) == 8
    assert a != c


def test_things_occlude(tmp_path):
    """Over a few seeds some thing is partly hidden by another one."""
    occluded = False
    for seed in range(3):
        m = make_synthetic('kitti-step', tmp_path / str(seed), videos=1,
                           frames=4, size=(48, 96), seed=seed)
        for f in m['videos'][0]['frames']:
            ins = f['instance']
            # a thing box touching another instance directly
            right = (ins[:, 1:] != ins[:, :-1]) & (ins[:, 1:] > 0) & \
                (ins[:, :-1] > 0)
            occluded |= bool(right.any())
    assert occluded


def test_stuff_classes_restrict_the_pool(tmp_path):
    """stuff_classes: every stuff pixel of every written label map is one of
    the chosen trainIds; things (11, 13) are unaffected; bad ids refused."""
    import pytest
    pool = (0, 2, 8)
    make_synthetic('kitti-step', tmp_path, videos=4, frames=2,
                   size=(32, 64), seed=3, stuff_classes=pool)
    seen = set()
    for lab in (tmp_path / 'panoptic_maps').rglob('*.png'):
        seen.update(np.unique(_read(lab)[..., 0]).tolist())
    stuff_seen = seen - {11, 13, 255}
    assert stuff_seen and stuff_seen <= set(pool)
    assert seen & {11, 13}
    with pytest.raises(ValueError, match='stuff classes'):
        make_synthetic('kitti-step', tmp_path / 'bad', videos=1, frames=1,
                       stuff_classes=(11,))


def test_thing_outline_darkens_only_the_silhouettes(tmp_path):
    """thing_outline=1: same labels and scene, a dark border on every thing
    (also where it overlaps another thing), nothing else changes."""
    kw = dict(videos=3, frames=3, size=(48, 96), seed=5)
    plain = make_synthetic('kitti-step', tmp_path / 'a', **kw)
    lined = make_synthetic('kitti-step', tmp_path / 'b', thing_outline=1,
                           **kw)
    borders_between_things = 0
    for va, vb in zip(plain['videos'], lined['videos']):
        for fa, fb in zip(va['frames'], vb['frames']):
            np.testing.assert_array_equal(fa['semantic'], fb['semantic'])
            np.testing.assert_array_equal(fa['instance'], fb['instance'])
            a = _read(fa['image']).astype(int)
            b = _read(fb['image']).astype(int)
            ins = fa['instance']
            # a pixel with a 4-neighbour of another segment, inside a thing
            pad = np.pad(ins, 1, mode='edge')
            border = np.zeros(ins.shape, bool)
            for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
                border |= pad[dy:dy + ins.shape[0], dx:dx + ins.shape[1]] \
                    != ins
            changed = (a != b).any(-1)
            # only thing pixels change, and they get darker
            assert not changed[ins == 0].any()
            assert (b[changed].sum(-1) < a[changed].sum(-1)).all()
            # the front thing's border over another thing is drawn
            front = border & (ins > 0) & (pad[1:-1, 2:] > 0) & \
                (pad[1:-1, 2:] != ins)
            borders_between_things += int((changed & front).sum())
            assert changed[border & (ins > 0)].mean() > 0.4
            assert not changed[(ins > 0) & ~border].any()
    assert borders_between_things > 0


def test_longer_busier_training_sequences(tmp_path):
    """train_frames / train_spawn change the training sequences only: they
    get that many frames and things that enter and leave part-way; the val
    sequences are byte for byte those made without the two options."""
    import pytest
    kw = dict(videos=3, frames=4, size=(48, 96), seed=2)
    plain = make_synthetic('kitti-step', tmp_path / 'a', **kw)
    busy = make_synthetic('kitti-step', tmp_path / 'b', train_frames=12,
                          train_spawn=0.5, **kw)
    val_a = {p: d for p, d in _digest(tmp_path / 'a').items()
             if '/val/' in p or '/0002/' in p}
    val_b = {p: d for p, d in _digest(tmp_path / 'b').items()
             if '/val/' in p or '/0002/' in p}
    assert len(val_a) == 8 and val_a == val_b
    for va, vb in zip(plain['videos'], busy['videos']):
        if vb['split'] == 'val':
            assert len(vb['frames']) == 4
            continue
        frames = vb['frames']
        assert len(frames) == 12 and len(va['frames']) == 4
        # 6 spawned things on top of the 3-5 of the plain sequence
        assert len(vb['things']) == len(va['things']) + 6
        seen = {}
        for t, f in enumerate(frames):
            sem, ins = f['semantic'], f['instance']
            for i in np.unique(ins[ins > 0]):
                assert set(np.unique(sem[ins == i])) == {vb['things'][i]}
                seen.setdefault(int(i), []).append(t)
        late = [i for i, ts in seen.items() if ts[0] > 0]
        gone = [i for i, ts in seen.items() if ts[-1] < 11]
        assert late and gone, 'things enter and leave during the sequence'
    with pytest.raises(ValueError, match='train_spawn'):
        make_synthetic('kitti-step', tmp_path / 'c', train_spawn=-1, **kw)
    with pytest.raises(ValueError, match='train_frames'):
        make_synthetic('kitti-step', tmp_path / 'd', train_frames=0, **kw)
