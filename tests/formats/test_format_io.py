"""knet.formats.io: atomic writes, link/copy, one-line CLI errors."""
import os

import numpy as np
import pytest

from knet.formats.io import (DataError, atomic_write_bytes, link_or_copy,
                             read_image, run_cli, save_image)


def test_atomic_write_leaves_no_temp_on_failure(tmp_path, monkeypatch):
    target = tmp_path / 'a' / 'x.json'
    atomic_write_bytes(target, b'old')

    def boom(*a, **k):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', boom)
    with pytest.raises(OSError):
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


def test_run_cli_one_line(capsys):
    def main(argv):
        raise DataError('some/file.png: broken\nsecond line')

    assert run_cli(main, []) == 1
    err = capsys.readouterr().err
    assert err == 'error: some/file.png: broken second line\n'
    assert run_cli(lambda argv: 0, []) == 0


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
