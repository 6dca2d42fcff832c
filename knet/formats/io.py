"""Framework-free file helpers: atomic writes, the inputs a run must never
overwrite, and readers that fail with one line naming the file.

Atomic writes. Every file the project writes goes through
:func:`atomic_output` (directly, or through :func:`atomic_write_bytes`,
:func:`dump_json`, :func:`save_image`, :func:`link_or_copy`): the content goes
to a temporary name in the destination folder (``.tmp-<pid>-<token>-<name>``,
so the suffix, and with it the format, is kept) and is then renamed onto the
destination. The temporary name is chosen before anything is created and the
clean-up covers every exception, ``KeyboardInterrupt`` included, so an
interrupted run never leaves a half-written file that a later run would take
for finished work, nor a hidden temporary file.

Inputs and outputs of a run. While a command-line run is active
(:func:`run_record`, opened by :func:`knet.utils.cli.run_cli`) the files and
folders the tool reads are registered (by the argument parser, and by
:func:`load_json` / :func:`read_image` as they read), and every atomic write
first checks that its destination is none of those files and lies inside none
of those folders; the written paths are recorded so that the runner can print
them. Outside a run (library use, tests) nothing is checked or recorded.
"""
import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple, Union

import numpy as np

from knet.utils.errors import UserError

__all__ = [
    'DataError', 'atomic_output', 'atomic_write_bytes', 'move_into_place',
    'reserve_temporary', 'commit_temporary', 'discard_temporary',
    'temporary_dir', 'remove_temporaries', 'is_temporary', 'save_image',
    'read_image', 'read_rgb_planes', 'dump_json', 'load_json',
    'read_name_list', 'link_or_copy',
    'RunRecord', 'run_record', 'current_run', 'register_input',
    'check_output'
]

PathLike = Union[str, Path]

#: every temporary file or folder name starts with this
TMP_PREFIX = '.tmp-'


class DataError(UserError, ValueError):
    """Bad input data: the message names the file and the problem.

    Also a ``ValueError``, so library callers that catch the latter for bad
    values keep working.
    """


# --------------------------------------------------------------------------
# the inputs and outputs of one command-line run
# --------------------------------------------------------------------------
class RunRecord:
    """The files and folders a run reads, and the paths it has written."""

    def __init__(self) -> None:
        self.input_files: Dict[str, str] = {}  # real path -> as given
        self.input_inodes: Dict[Tuple[int, int], str] = {}
        self.input_trees: Dict[str, str] = {}  # real path -> as given
        self.written: Dict[str, None] = {}  # absolute paths, in order
        #: (absolute path, role) of the outputs named on the command line
        self.declared_outputs: List[Tuple[str, str]] = []

    def add_input(self, path: PathLike, tree: bool = False) -> None:
        given = os.fspath(path)
        real = os.path.realpath(given)
        if tree:
            self.input_trees[real] = given
            return
        if real in self.input_files:
            return
        self.input_files[real] = given
        with contextlib.suppress(OSError):
            st = os.stat(real)
            self.input_inodes[(st.st_dev, st.st_ino)] = given

    def conflict(self, path: PathLike, follow: bool = False
                 ) -> Optional[str]:
        """Why writing ``path`` would touch an input, or None.

        The destination is the folder's real path joined with the name: an
        atomic write renames onto it, replacing a symlink rather than its
        target. ``follow`` also resolves a symlink at the destination (for
        user-named outputs: ``--out link-to-the-input`` is a mistake).
        """
        if not (self.input_files or self.input_trees):
            return None
        absolute = os.path.abspath(os.fspath(path))
        candidates = {os.path.join(
            os.path.realpath(os.path.dirname(absolute)),
            os.path.basename(absolute))}
        if follow:
            candidates.add(os.path.realpath(absolute))
        for cand in candidates:
            if cand in self.input_files:
                return f'is the input file {self.input_files[cand]}'
            for real, given in self.input_trees.items():
                if cand == real:
                    return f'is the input folder {given}'
                if cand.startswith(real.rstrip(os.sep) + os.sep):
                    return f'lies inside the input folder {given}'
        if follow or not os.path.islink(absolute):
            try:
                st = os.stat(absolute)
            except OSError:
                return None
            given = self.input_inodes.get((st.st_dev, st.st_ino))
            if given is not None:
                return f'is the same file as the input {given}'
        return None

    def add_written(self, path: PathLike) -> None:
        self.written[os.path.abspath(os.fspath(path))] = None


_RUN: Optional[RunRecord] = None
_LIVE_TEMPS: Set[str] = set()


@contextlib.contextmanager
def run_record() -> Iterator[RunRecord]:
    """Track the inputs and outputs of one run (see the module docstring)."""
    global _RUN
    previous, _RUN = _RUN, RunRecord()
    try:
        yield _RUN
    finally:
        _RUN = previous


def current_run() -> Optional[RunRecord]:
    """The active :class:`RunRecord`, or None outside a command-line run."""
    return _RUN


def register_input(path: PathLike, tree: bool = False) -> None:
    """Declare that the current run reads ``path`` (a file, or with ``tree``
    a whole folder): no output of the run may replace it or, for a folder,
    lie inside it. Does nothing outside a run."""
    if _RUN is not None:
        _RUN.add_input(path, tree)


def check_output(path: PathLike, follow: bool = False) -> None:
    """Raise :class:`DataError` when writing ``path`` would replace an input
    of the current run or write inside an input folder."""
    if _RUN is not None:
        why = _RUN.conflict(path, follow)
        if why is not None:
            raise DataError(f'{path}: refusing to write there: the output '
                            f'{why}')


# --------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------
def is_temporary(name: str) -> bool:
    """True for the names of this module's temporary files and folders."""
    return os.path.basename(name).startswith(TMP_PREFIX)


def _temp_name(folder: str, name: str) -> str:
    if len(name.encode()) > 180:  # stay below NAME_MAX with the prefix
        name = name[-90:]
    return os.path.join(
        folder, f'{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{name}')


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)
    _LIVE_TEMPS.discard(path)


def remove_temporaries() -> None:
    """Remove every temporary file or folder of this process that is still
    there (the runner's safety net after an interruption)."""
    for path in list(_LIVE_TEMPS):
        _remove(path)


def _make_folder(folder: str, path: PathLike) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise DataError(f'{path}: cannot create the folder {folder} '
                        f'({e.strerror or e})') from None


def move_into_place(src: PathLike, dst: PathLike) -> None:
    """Rename ``src`` (a finished file or folder) onto ``dst``.

    A folder replaces an existing folder: the old one is renamed away first,
    restored if the rename fails, and removed afterwards.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    check_output(dst)
    if os.path.isdir(src) and os.path.isdir(dst) and \
            not os.path.islink(dst):
        trash = _temp_name(os.path.dirname(os.path.abspath(dst)),
                           os.path.basename(dst))
        _LIVE_TEMPS.add(trash)
        os.rename(dst, trash)
        try:
            os.rename(src, dst)
        except BaseException:
            os.rename(trash, dst)
            raise
        finally:
            _remove(trash)
    else:
        if os.path.isdir(dst) and not os.path.islink(dst):
            raise DataError(f'{dst}: is a folder; cannot replace it with a '
                            'file')
        os.replace(src, dst)
    if _RUN is not None:
        _RUN.add_written(dst)


def reserve_temporary(path: PathLike) -> str:
    """A temporary name beside ``path`` for a writer that outlives a
    ``with`` block (e.g. a video encoder fed frame by frame): the
    destination is checked (:func:`check_output`), its folder created, the
    name registered (:func:`remove_temporaries` removes it after an
    interruption). Finish with :func:`commit_temporary` or
    :func:`discard_temporary`; :func:`atomic_output` does both for a block.
    """
    path = os.fspath(path)
    check_output(path)
    folder = os.path.dirname(os.path.abspath(path))
    _make_folder(folder, path)
    tmp = _temp_name(folder, os.path.basename(path))
    _LIVE_TEMPS.add(tmp)
    return tmp


def commit_temporary(tmp: str, path: PathLike) -> None:
    """Move the finished temporary ``tmp`` onto ``path``; on failure remove
    it and raise a :class:`DataError` naming ``path``."""
    try:
        move_into_place(tmp, path)
    except OSError as e:
        discard_temporary(tmp)
        raise DataError(f'{path}: cannot write ({e.strerror or e})') \
            from None
    except BaseException:
        discard_temporary(tmp)
        raise
    _LIVE_TEMPS.discard(tmp)


def discard_temporary(tmp: str) -> None:
    """Remove a temporary file or folder (nothing if it is not there)."""
    _remove(tmp)


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success rename it onto
    ``path``.

    The caller creates a file (or a folder) at the yielded path with any
    writer (``open``, ``torch.save``, ``savefig``, ...); it gets the usual
    permissions (``0666 & ~umask``). On any exception, ``KeyboardInterrupt``
    included, the temporary is removed and ``path`` is left as it was. A
    failure to write names ``path``, not the temporary. The destination is
    checked against the inputs of the current run first
    (:func:`check_output`).
    """
    tmp = reserve_temporary(path)
    try:
        yield tmp
    except OSError as e:
        discard_temporary(tmp)
        if e.filename in (None, tmp, os.fspath(path)):
            raise DataError(f'{path}: cannot write ({e.strerror or e})') \
                from None
        raise
    except BaseException:
        discard_temporary(tmp)
        raise
    commit_temporary(tmp, path)


@contextlib.contextmanager
def temporary_dir(folder: PathLike) -> Iterator[Path]:
    """A scratch folder inside ``folder`` (created if needed), removed on
    exit whatever happens; move results out with :func:`move_into_place`."""
    folder = os.fspath(folder)
    _make_folder(folder, folder)
    tmp = _temp_name(os.path.abspath(folder), 'scratch')
    _LIVE_TEMPS.add(tmp)
    try:
        os.mkdir(tmp)
        yield Path(tmp)
    finally:
        _remove(tmp)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`).

    A file that already holds exactly ``data`` is left untouched, so that
    re-running a converter changes nothing.
    """
    path = Path(path)
    if path.is_file() and not path.is_symlink() and \
            path.stat().st_size == len(data) and path.read_bytes() == data:
        check_output(path)
        return  # already there: keep the file (and its mtime) as it is
    with atomic_output(path) as tmp:
        with open(tmp, 'xb') as f:
            f.write(data)


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


def dump_json(obj: Any, path: PathLike, indent: Optional[int] = None) -> None:
    """Write JSON atomically (compact unless ``indent``)."""
    text = json.dumps(obj, indent=indent,
                      separators=None if indent else (',', ':'))
    atomic_write_bytes(path, text.encode())


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
    with atomic_output(dst) as tmp:
        if mode == 'link':
            os.symlink(target, tmp)
        else:
            shutil.copyfile(src, tmp)
    return True


# --------------------------------------------------------------------------
# readers with one-line errors
# --------------------------------------------------------------------------
def _open_image(path: PathLike, what: str):
    """Open ``path`` with Pillow (loaded); errors name the file. The file
    counts as an input of the current run."""
    from PIL import Image
    register_input(path)
    try:
        image = Image.open(path)
        image.load()
    except FileNotFoundError:
        raise DataError(f'{path}: {what} not found') from None
    except IsADirectoryError:
        raise DataError(f'{path}: is a folder, not {what}') from None
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


def load_json(path: PathLike) -> Any:
    """Read JSON; a missing or broken file becomes a one-line DataError."""
    register_input(path)
    try:
        with open(path, 'rb') as f:
            return json.load(f)
    except FileNotFoundError:
        raise DataError(f'{path}: file not found') from None
    except IsADirectoryError:
        raise DataError(f'{path}: is a folder, not a JSON file') from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f'{path}: not valid JSON ({e})') from None
    except RecursionError:
        raise DataError(f'{path}: JSON nested too deeply') from None


def read_name_list(path: PathLike, what: str = 'name') -> List[str]:
    """The names of a split file (one a line; blank lines skipped).

    Each name must be a plain file or folder name (no path separator, not
    ``.`` or ``..``) and appear once: a duplicate would be counted twice.
    """
    register_input(path)
    try:
        text = Path(path).read_text(encoding='utf-8')
    except FileNotFoundError:
        raise DataError(f'{path}: file not found') from None
    except IsADirectoryError:
        raise DataError(f'{path}: is a folder, not a split file') from None
    except UnicodeDecodeError as e:
        raise DataError(f'{path}: not a UTF-8 text file ({e})') from None
    names: List[str] = []
    seen: Dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        name = line.strip()
        if not name:
            continue
        if '/' in name or '\\' in name or name in ('.', '..') or \
                '\x00' in name:
            raise DataError(f'{path}:{lineno}: {name!r} is not a plain '
                            f'{what} (no path separators, not . or ..)')
        if name in seen:
            raise DataError(f'{path}:{lineno}: {what} {name!r} is listed '
                            f'twice (first on line {seen[name]})')
        seen[name] = lineno
        names.append(name)
    return names
