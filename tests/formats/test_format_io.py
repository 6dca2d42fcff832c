"""knet.formats.io: atomic writes, link/copy, the run's input guard,
split files."""
import os

import numpy as np
import pytest

from knet.formats.io import (DataError, atomic_output, atomic_write_bytes,
                             is_temporary, link_or_copy, read_image,
                             read_name_list, register_input, run_record,
                             save_image, temporary_dir)


def test_atomic_write_leaves_no_temp_on_failure(tmp_path, monkeypatch):
    target = tmp_path / 'a' / 'x.json'
    atomic_write_bytes(target, b'old')

    def boom(*a, **k):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', boom)
    with pytest.raises(DataError, match=r'x\.json: cannot write \(disk full'):
        atomic_write_bytes(target, b'new')
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in target.parent.iterdir()) == ['x.json']


def test_images_roundtrip_and_bad_file(tmp_path):
    a16 = np.array([[0, 300, 12499]], np.uint16)
    save_image(tmp_path / 'm.png', a16)
    back = read_image(tmp_path / 'm.png')
    assert back.dtype == np.uint16 and back.tolist() == a16.tolist()
    (tmp_path / 'bad.png').write_bytes(b'\x89PNG\r\n\x1a\nbroken')
    with pytest.raises(DataError, match='bad.png'):
        read_image(tmp_path / 'bad.png')


def test_link_or_copy_idempotent(tmp_path):
    src = tmp_path / 'src.bin'
    src.write_bytes(b'abc')
    assert link_or_copy(src, tmp_path / 'o' / 'l.bin', 'link')
    assert (tmp_path / 'o' / 'l.bin').is_symlink()
    assert not link_or_copy(src, tmp_path / 'o' / 'l.bin', 'link')
    assert link_or_copy(src, tmp_path / 'o' / 'c.bin', 'copy')
    assert not link_or_copy(src, tmp_path / 'o' / 'c.bin', 'copy')
    assert (tmp_path / 'o' / 'c.bin').read_bytes() == b'abc'
    assert src.read_bytes() == b'abc'


def test_atomic_output_interrupted_and_permissions(tmp_path):
    target = tmp_path / 'out' / 'model.pth'
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'half')
            raise KeyboardInterrupt
    assert not target.exists() and os.listdir(target.parent) == []
    with atomic_output(target) as tmp:
        assert is_temporary(tmp) and tmp.endswith('model.pth')
        with open(tmp, 'wb') as f:
            f.write(b'full')
    assert target.read_bytes() == b'full'
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not 0600


def test_temporary_dir_and_folder_replace(tmp_path):
    out = tmp_path / 'pan'
    out.mkdir()
    (out / 'old.png').write_bytes(b'old')
    with temporary_dir(tmp_path) as work:
        (work / 'pan').mkdir()
        (work / 'pan' / 'new.png').write_bytes(b'new')
        from knet.formats.io import move_into_place
        move_into_place(work / 'pan', out)
    assert sorted(os.listdir(out)) == ['new.png']
    assert sorted(os.listdir(tmp_path)) == ['pan']


def test_run_guard_refuses_inputs(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    gt = src / 'gt.png'
    gt.write_bytes(b'png')
    alone = tmp_path / 'a.json'
    alone.write_text('{}')
    os.link(alone, tmp_path / 'hard.json')
    with run_record() as run:
        register_input(src, tree=True)
        register_input(alone)
        for bad in (gt, src / 'new' / 'x.json', alone, tmp_path / 'hard.json'):
            with pytest.raises(DataError, match='refusing to write'):
                atomic_write_bytes(bad, b'x')
        atomic_write_bytes(tmp_path / 'ok.json', b'{}')
        assert run.written == {str(tmp_path / 'ok.json'): None}
    assert gt.read_bytes() == b'png' and alone.read_text() == '{}'
    atomic_write_bytes(alone, b'[]')  # outside a run nothing is guarded
    assert alone.read_text() == '[]'


def test_read_name_list(tmp_path):
    p = tmp_path / 'val.txt'
    p.write_text('a\n\nb\n')
    assert read_name_list(p) == ['a', 'b']
    p.write_text('a\nb\na\n')
    with pytest.raises(DataError, match=r'val.txt:3: .*listed twice'):
        read_name_list(p, 'video')
    p.write_text('../x\n')
    with pytest.raises(DataError, match='not a plain'):
        read_name_list(p)


@pytest.mark.parametrize('suffix', ['.png', '.bmp', '.jpg', ''])
def test_save_image_formats_follow_the_suffix(tmp_path, suffix):
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[:, 4:] = (200, 30, 90)
    path = tmp_path / f'x{suffix}'
    save_image(path, rgb)
    back = read_image(path)
    assert back.shape == rgb.shape
    err = np.abs(back.astype(int) - rgb)
    if suffix == '.jpg':  # lossy: ringing at the edge only
        assert err.mean() < 6 and err[:, 6:].max() <= 8
    else:
        assert err.max() == 0
    with pytest.raises(ValueError, match='suffix'):
        save_image(tmp_path / 'x.unknown', rgb)


def test_read_image_drops_alpha_and_names_what(tmp_path):
    from PIL import Image
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 7, 255
    Image.fromarray(rgba).save(tmp_path / 'a.png')
    back = read_image(tmp_path / 'a.png')
    assert back.shape == (3, 4, 3) and (back[..., 0] == 7).all()
    with pytest.raises(DataError, match='prediction not found'):
        read_image(tmp_path / 'missing.png', 'prediction')
