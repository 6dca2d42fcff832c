"""Small, framework-free file helpers shared by the data tools.

Every converter writes its outputs atomically (a temporary file in the same
folder, then ``os.replace``) so that an interrupted run never leaves a
half-written file that a later run would take for finished work. Command-line
tools report bad input as one line on stderr through :class:`DataError`.
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np

from knet.utils.cli import UserError

__all__ = [
    'DataError', 'atomic_write_bytes', 'save_image', 'read_image',
    'read_rgb_planes', 'dump_json', 'load_json', 'link_or_copy', 'run_cli'
]

PathLike = Union[str, Path]


class DataError(UserError):
    """Bad input data: the message names the file and the problem."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and os.replace.

    A file that already holds exactly ``data`` is left untouched, so that
    re-running a converter changes nothing.
    """
    path = Path(path)
    if path.is_file() and not path.is_symlink() and \
            path.stat().st_size == len(data) and path.read_bytes() == data:
        return  # already there: keep the file (and its mtime) as it is
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix=path.suffix,
                               dir=path.parent)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_image(path: PathLike, array: np.ndarray, quality: int = 95) -> None:
    """Save an image atomically; the format follows the suffix (any format
    Pillow writes; no suffix: PNG).

    uint8 H x W x 3 (RGB) or H x W arrays; uint16 H x W arrays are written as
    16-bit single-channel PNGs (VIPSeg panomasks). JPEGs get ``quality``.
    """
    import io as _io

    from PIL import Image
    path = Path(path)
    array = np.ascontiguousarray(array)
    suffix = path.suffix.lower()
    fmt = 'PNG' if not suffix else Image.registered_extensions().get(suffix)
    if fmt is None:
        raise ValueError(f'{path}: unsupported image suffix {path.suffix!r}')
    if array.dtype == np.uint16:
        if array.ndim != 2 or fmt != 'PNG':
            raise ValueError('uint16 images must be single-channel PNGs')
    elif array.dtype != np.uint8:
        raise ValueError(f'unsupported image dtype {array.dtype}')
    buf = _io.BytesIO()
    options = dict(quality=quality) if fmt == 'JPEG' else {}
    Image.fromarray(array).save(buf, format=fmt, **options)
    atomic_write_bytes(path, buf.getvalue())


def _open_image(path: PathLike, what: str):
    """Open ``path`` with Pillow (loaded); errors name the file."""
    from PIL import Image
    try:
        image = Image.open(path)
        image.load()
    except FileNotFoundError:
        raise DataError(f'{path}: {what} not found') from None
    except Exception as e:  # PIL raises many types for broken files
        raise DataError(f'{path}: cannot decode {what} '
                        f'({" ".join(str(e).split())})') from None
    return image


def read_image(path: PathLike, what: str = 'image') -> np.ndarray:
    """Read an image unchanged (8/16-bit, 1 or 3 channels; the alpha channel
    of an RGBA file is dropped) as a NumPy array.

    Raises :class:`DataError` naming the file (and ``what`` it is) when it is
    missing or cannot be decoded.
    """
    with _open_image(path, what) as image:
        array = np.array(image)
    if image.mode == 'RGBA':
        array = array[..., :3]
    return array


def read_rgb_planes(path: PathLike,
                    what: str = 'image') -> Tuple[np.ndarray, ...]:
    """Read an 8-bit RGB(A) PNG as contiguous (R, G, B) uint8 planes.

    Splitting the bands in Pillow is faster than ``np.asarray`` on the
    packed image, and planes are what the KITTI-STEP evaluation packs
    (:func:`knet.formats.kitti_step.pack_kitti_step`). Any other mode is a
    :class:`DataError`.
    """
    with _open_image(path, what) as image:
        if image.mode not in ('RGB', 'RGBA'):
            raise DataError(f'{path}: {what} must be an 8-bit RGB PNG, got '
                            f'mode {image.mode}')
        return tuple(np.asarray(band) for band in image.split()[:3])


def dump_json(obj: Any, path: PathLike) -> None:
    """Write JSON atomically."""
    atomic_write_bytes(path, json.dumps(obj, separators=(',', ':')).encode())


def load_json(path: PathLike) -> Any:
    """Read JSON; a missing or broken file becomes a one-line DataError."""
    try:
        with open(path, 'rb') as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataError(f'{path}: file not found') from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f'{path}: not valid JSON ({e})') from None


def link_or_copy(src: PathLike, dst: PathLike, mode: str = 'link') -> bool:
    """Make ``dst`` a symlink to (mode 'link') or a copy of ``src``.

    Idempotent: returns False when ``dst`` is already right. The source is
    only read. Links are absolute so that they survive moving the output.
    """
    src, dst = Path(src), Path(dst)
    if mode not in ('link', 'copy'):
        raise ValueError(f'unknown mode {mode!r}')
    if mode == 'link':
        target = str(src.resolve())
        if dst.is_symlink() and os.readlink(dst) == target:
            return False
    elif dst.exists() and not dst.is_symlink():
        d, s = dst.stat(), src.stat()
        if d.st_size == s.st_size and d.st_mtime >= s.st_mtime:
            return False  # copied after the source last changed
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f'.tmp_{os.getpid()}_{dst.name}')
    if tmp.exists() or tmp.is_symlink():
        tmp.unlink()
    if mode == 'link':
        os.symlink(target, tmp)
    else:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
    return True


def run_cli(main: Callable[[Optional[List[str]]], int],
            argv: Optional[List[str]] = None) -> int:
    """Run ``main(argv)``; bad input becomes one line on stderr and exit 1."""
    try:
        return int(main(argv) or 0)
    except (UserError, OSError, ValueError, KeyError) as e:
        if os.environ.get('KNET_DEBUG'):
            raise
        if isinstance(e, OSError) and e.filename is not None:
            message = f'{e.filename}: {e.strerror or e}'
        else:
            message = ' '.join(str(e).split()) or type(e).__name__
        print(f'error: {message}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('error: interrupted', file=sys.stderr)
        return 130
