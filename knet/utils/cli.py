"""The command-line runner every tool uses: one validation layer, one line per
error, no traceback, nothing half-written.

A tool builds its parser with :class:`ArgumentParser` (argparse with file
roles and one-line usage errors), gives numeric options a range with
:func:`int_range` / :func:`float_range`, and runs ``sys.exit(run_cli(main))``.
Then:

* inputs (``path='in-file'``, ``'in-dir'``, ``'in-tree'``, ``'in-path'``)
  must exist and be of the right kind; outputs (``'out-file'``,
  ``'out-dir'``, ``'out-path'``) may not resolve to an input file nor lie
  inside an input folder the tool reads (``'in-tree'``), and their folder
  must be writable, all before any work starts;
* every file the tool writes goes through
  :func:`knet.formats.io.atomic_output`, which also refuses a destination
  that is an input read so far;
* an error is one line, ``error: <file or option>: <what is wrong>``, on
  stderr: exit status 2 for a command line argparse rejects (unknown option,
  value out of range), 1 for a bad file or bad input data, 3 for an
  unexpected failure (``KNET_DEBUG=1`` shows its traceback);
* Ctrl-C removes the temporary files and exits 130 with one line;
* on success the absolute paths written are printed.
"""
import argparse
import math
import os
import re
import signal
import sys
import threading
import time
from typing import Callable, Iterable, List, Optional, Sequence

from .errors import UserError

__all__ = [
    'UserError', 'UsageError', 'ArgumentParser', 'int_range', 'float_range',
    'device_name', 'check_device', 'run_cli', 'check_input',
    'check_output_path', 'has_display', 'written_summary', 'add_cfg_options',
    'add_runner_args', 'export_local_rank'
]

#: exit status of an unexpected failure (a bug or an input nobody checked)
EXIT_UNEXPECTED = 3
#: the longest message printed (the first characters name the culprit)
MAX_MESSAGE = 600

_IN_ROLES = ('in-file', 'in-dir', 'in-tree', 'in-path')
_OUT_ROLES = ('out-file', 'out-dir', 'out-path')


class UsageError(UserError):
    """A bad command line (option value, missing argument): exit status 2."""


# --------------------------------------------------------------------------
# numeric ranges
# --------------------------------------------------------------------------
def _range_text(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return (f'in {"(" if lo_open else "["}{lo:g}, {hi:g}'
                f'{")" if hi_open else "]"}')
    if lo is not None:
        return f'{">" if lo_open else ">="} {lo:g}'
    return f'{"<" if hi_open else "<="} {hi:g}'


def int_range(lo: Optional[int] = None,
              hi: Optional[int] = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[lo, hi]`` (None: unbounded)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{text!r} is not an integer') from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(
                f'must be {_range_text(lo, hi)}, got {value}')
        return value

    parse.__name__ = 'integer'
    return parse


def float_range(lo: Optional[float] = None, hi: Optional[float] = None,
                lo_open: bool = False,
                hi_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: a finite number between ``lo`` and ``hi``
    (inclusive unless ``lo_open`` / ``hi_open``; None: unbounded)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{text!r} is not a number') from None
        bad = not math.isfinite(value) or \
            (lo is not None and (value <= lo if lo_open else value < lo)) or \
            (hi is not None and (value >= hi if hi_open else value > hi))
        if bad:
            raise argparse.ArgumentTypeError(
                f'must be {_range_text(lo, hi, lo_open, hi_open)}, got '
                f'{text}')
        return value

    parse.__name__ = 'number'
    return parse


def device_name(text: str) -> str:
    """An argparse ``type``: a torch device the tools run on, ``cpu``,
    ``cuda`` or ``cuda:<index>`` (whether it exists: :func:`check_device`)."""
    if re.fullmatch(r'cpu|cuda(:[0-9]+)?', text):
        return text
    raise argparse.ArgumentTypeError(
        f'expected cpu, cuda or cuda:<index>, got {text!r}')


def check_device(device: str, option: str = '--device') -> None:
    """Raise :class:`UserError` when the CUDA device ``device`` names is
    not there (no CUDA, or an index beyond the device count)."""
    if not device.startswith('cuda'):
        return
    import torch
    if not torch.cuda.is_available():
        raise UserError(f'{option} {device}: CUDA is not available on this '
                        'machine (use --device cpu)')
    index = int(device.split(':')[1]) if ':' in device else 0
    if index >= torch.cuda.device_count():
        raise UserError(f'{option} {device}: there are '
                        f'{torch.cuda.device_count()} CUDA device(s)')


# --------------------------------------------------------------------------
# file roles
# --------------------------------------------------------------------------
def _name(option: Optional[str], path) -> str:
    return f'{option} {path}' if option else f'{path}'


def has_display() -> bool:
    """Whether a window can open. Without a display server OpenCV's Qt
    backend aborts the whole process (no Python exception to catch), so
    tools check before showing anything."""
    if sys.platform.startswith('linux'):
        return bool(os.environ.get('DISPLAY') or
                    os.environ.get('WAYLAND_DISPLAY'))
    return True


def check_input(path, role: str = 'in-file',
                option: Optional[str] = None) -> None:
    """Check that an input exists and has the right kind; register it with
    the current run (an ``in-tree`` protects everything under it).

    Raises :class:`UserError` (exit status 1) naming ``option`` and the path.
    """
    from knet.formats.io import register_input
    text = os.fspath(path)
    if not text:
        raise UserError(f'{option or "path"}: empty path')
    if not os.path.exists(text):
        what = {'in-file': 'file', 'in-dir': 'folder',
                'in-tree': 'folder'}.get(role, 'file or folder')
        broken = ' (a broken symlink)' if os.path.islink(text) else ''
        raise UserError(f'{_name(option, text)}: no such {what}{broken}')
    if role == 'in-file' and os.path.isdir(text):
        raise UserError(f'{_name(option, text)}: is a folder, expected a '
                        'file')
    if role in ('in-dir', 'in-tree') and not os.path.isdir(text):
        raise UserError(f'{_name(option, text)}: is a file, expected a '
                        'folder')
    if not os.access(text, os.R_OK):
        raise UserError(f'{_name(option, text)}: not readable')
    if role == 'in-dir':
        return  # the files the tool reads in it register as they are read
    register_input(text, tree=os.path.isdir(text))


def _probe_writable(folder: str) -> Optional[str]:
    """None when a file can be created in ``folder`` (an existing folder),
    else the reason. Creates and removes a temporary file: os.access says
    yes to root on read-only file systems."""
    from knet.formats.io import TMP_PREFIX
    probe = os.path.join(folder, f'{TMP_PREFIX}{os.getpid()}-probe')
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return None
    except OSError as e:
        return e.strerror or str(e)
    os.close(fd)
    os.unlink(probe)
    return None


def check_output_path(path, role: str = 'out-file',
                      option: Optional[str] = None,
                      suffixes: Optional[Sequence[str]] = None) -> None:
    """Check an output before any work: the right kind (a file name where a
    file is written, a folder where a folder is), an allowed suffix, not an
    input of the run nor inside an input folder, and a writable folder.

    Raises :class:`UserError` (exit status 1) naming ``option`` and the path.
    """
    from knet.formats.io import current_run
    text = os.fspath(path)
    if not text:
        raise UserError(f'{option or "output"}: empty path')
    name = _name(option, text)
    # an input named as output is refused as such (before kind and suffix)
    run = current_run()
    why = run.conflict(text, follow=True) if run is not None else None
    if why is not None:
        raise UserError(f'{name}: refusing to write there: the output {why}')
    if role == 'out-file' and (os.path.isdir(text) or
                               text.endswith(('/', os.sep))):
        raise UserError(f'{name}: is a folder, expected a file name')
    if role == 'out-dir' and os.path.exists(text) and \
            not os.path.isdir(text):
        raise UserError(f'{name}: is a file, expected a folder')
    if suffixes and not text.lower().endswith(tuple(suffixes)):
        raise UserError(f'{name}: must end with {" or ".join(suffixes)}')
    # the nearest existing ancestor of what will be created
    folder = os.path.abspath(text)
    if role == 'out-file' or (role == 'out-path' and
                              not os.path.isdir(folder)):
        folder = os.path.dirname(folder)
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    if not os.path.isdir(folder):
        raise UserError(f'{name}: cannot create it: {folder} is a file, '
                        'not a folder')
    why = _probe_writable(folder)
    if why is not None:
        raise UserError(f'{name}: cannot write in {folder} ({why})')
    if run is not None:
        run.declared_outputs.append((os.path.abspath(text), role))


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with one-line errors and file roles.

    ``add_argument(..., path=ROLE, suffixes=(...))`` marks an option as an
    input (``in-file``, ``in-dir``: a folder the tool looks into,
    ``in-tree``: a folder the tool reads as a whole, ``in-path``: a file or a
    folder) or an output (``out-file``, ``out-dir``, ``out-path``: a file or
    a folder). :meth:`parse_args` checks them all (inputs first, then the
    outputs against them) before returning. Sub-commands
    (``add_subparsers``) get the same class.
    """

    def add_argument(self, *args, path: Optional[str] = None,
                     suffixes: Optional[Sequence[str]] = None, **kwargs):
        if path is not None and path not in _IN_ROLES + _OUT_ROLES:
            raise ValueError(f'unknown path role {path!r}')
        action = super().add_argument(*args, **kwargs)
        action.knet_path = path
        action.knet_suffixes = tuple(suffixes) if suffixes else None
        return action

    def error(self, message: str):
        raise UsageError(f'{message} (see --help)')

    def parse_args(self, args=None, namespace=None):
        ns = super().parse_args(args, namespace)
        roles = list(self._path_actions(ns))
        for action, value in roles:
            if action.knet_path in _IN_ROLES:
                check_input(value, action.knet_path, _option(action))
        for action, value in roles:
            if action.knet_path in _OUT_ROLES:
                check_output_path(value, action.knet_path, _option(action),
                                  action.knet_suffixes)
        return ns

    def _path_actions(self, ns):
        """(action, value) of every role-carrying option that has a value,
        in this parser and the sub-command chosen."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = getattr(ns, action.dest, None)
                sub = action.choices.get(chosen) if chosen else None
                if isinstance(sub, ArgumentParser):
                    yield from sub._path_actions(ns)
                continue
            role = getattr(action, 'knet_path', None)
            value = getattr(ns, action.dest, None)
            if role is None or value is None:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                yield action, v


def _option(action) -> str:
    return action.option_strings[-1] if action.option_strings else \
        action.dest


# --------------------------------------------------------------------------
# the runner
# --------------------------------------------------------------------------
def _one_line(e: BaseException) -> str:
    if isinstance(e, OSError) and e.filename is not None:
        text = f'{e.filename}: {e.strerror or e}'
    else:
        text = str(e)
        if isinstance(e, KeyError) and len(e.args) == 1:
            text = repr(e.args[0])
    text = ' '.join(text.split())
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE - 3] + '...'
    return text


def _print(text: str, stream) -> None:
    """Print without failing on an odd path (undecodable bytes)."""
    try:
        print(text, file=stream, flush=True)
    except UnicodeEncodeError:
        encoding = getattr(stream, 'encoding', None) or 'utf-8'
        print(text.encode(encoding, 'backslashreplace').decode(encoding),
              file=stream, flush=True)


def written_summary(written: Iterable[str], declared: Sequence,
                    since: float = 0.0, max_listed: int = 8) -> List[str]:
    """Lines naming what a run wrote, absolute paths: every file written
    (per folder, a count when there are more than ``max_listed``), each
    output folder named on the command line that exists, and each output
    file named there that a third-party writer changed after ``since``."""
    written = list(written)
    for path, role in dict.fromkeys(declared):
        if path not in written and os.path.isfile(path) and \
                os.path.getmtime(path) >= since:
            written.append(path)
    lines: List[str] = []
    by_folder: dict = {}
    for w in written:
        by_folder.setdefault(os.path.dirname(w), []).append(w)
    shown = set()
    for path, role in dict.fromkeys(declared):
        if os.path.isdir(path):
            inside = [w for w in written if w == path or
                      w.startswith(path.rstrip(os.sep) + os.sep)]
            if len(inside) > max_listed:
                lines.append(f'wrote {len(inside)} files under {path}')
                shown.update(inside)
            elif not inside:
                lines.append(f'output folder: {path}')
    for folder, files in by_folder.items():
        files = [f for f in files if f not in shown]
        if len(files) > max_listed:
            lines.append(f'wrote {len(files)} files under {folder}')
        else:
            lines.extend(f'wrote {f}' for f in files)
    return lines


def _sigterm_to_exit(signum, frame):
    raise SystemExit(128 + signum)


def run_cli(main: Callable[[Optional[List[str]]], object],
            argv: Optional[List[str]] = None) -> int:
    """Run ``main(argv)`` as a command-line tool; returns the exit status.

    Usage: ``sys.exit(run_cli(main))``. See the module docstring for what
    the runner guarantees. ``KNET_DEBUG=1`` re-raises unexpected errors
    with their traceback.
    """
    from knet.formats.io import remove_temporaries, run_record
    restore = None
    if threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        restore = signal.signal(signal.SIGTERM, _sigterm_to_exit)
    try:
        with run_record() as run:
            start = time.time()
            try:
                status = main(argv)
            except BaseException:
                remove_temporaries()
                raise
            # files written and removed again (scratch data) are no output
            written = [w for w in run.written if os.path.lexists(w)]
            for line in written_summary(written, run.declared_outputs,
                                        start - 1.0):
                _print(line, sys.stdout)
        # main may return an exit status (e.g. a check that found problems)
        return status if isinstance(status, int) and \
            not isinstance(status, bool) else 0
    except KeyboardInterrupt:
        _print('error: interrupted (Ctrl-C); temporary files removed',
               sys.stderr)
        return 130
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        _print(f'error: {" ".join(str(e.code).split())}', sys.stderr)
        return 1
    except UsageError as e:
        _print(f'error: {_one_line(e)}', sys.stderr)
        return 2
    except (UserError, OSError, MemoryError) as e:
        if os.environ.get('KNET_DEBUG'):
            raise
        if isinstance(e, MemoryError):
            _print('error: out of memory', sys.stderr)
        else:
            _print(f'error: {_one_line(e)}', sys.stderr)
        return 1
    except Exception as e:  # a bug, or an input no check caught
        if os.environ.get('KNET_DEBUG'):
            raise
        _print(f'error: unexpected {type(e).__name__}: {_one_line(e)} '
               '(KNET_DEBUG=1 shows the traceback)', sys.stderr)
        return EXIT_UNEXPECTED
    finally:
        if restore is not None:
            signal.signal(signal.SIGTERM, restore)


# --------------------------------------------------------------------------
# options shared by tools/train.py and tools/test.py
# --------------------------------------------------------------------------
def add_cfg_options(parser, example_override: str) -> None:
    """``--cfg-options KEY=VALUE ...`` (mmengine's ``DictAction``), with a
    malformed item reported as a usage error naming the option."""
    from mmengine.config import DictAction

    class CfgOptions(DictAction):

        def __call__(self, parser, namespace, values, option_string=None):
            try:
                super().__call__(parser, namespace, values, option_string)
            except (ValueError, AssertionError, TypeError) as e:
                raise argparse.ArgumentError(
                    self, f'expected KEY=VALUE items ({e})') from None

    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptions,
        help=f'override config entries, e.g. {example_override}')


def add_runner_args(parser, example_override: str, launcher_script: str):
    """Options shared by tools/train.py and tools/test.py: ``--cfg-options``,
    ``--launcher`` and the ``--local-rank`` that torch launchers pass."""
    add_cfg_options(parser, example_override)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help=f'job launcher (set by {launcher_script})')
    parser.add_argument('--local_rank', '--local-rank', type=int_range(0),
                        default=0)


def export_local_rank(args) -> None:
    """Expose ``--local-rank`` as ``LOCAL_RANK`` unless a launcher set it."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
