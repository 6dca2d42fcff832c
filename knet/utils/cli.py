"""Command-line entry points: one clear line on bad input, no traceback."""
import os
import sys
from typing import Callable

__all__ = ['UserError', 'run_cli', 'add_runner_args', 'export_local_rank']


class UserError(Exception):
    """An error caused by the user's input (a file, an option).

    Command-line tools print its message as one line and exit with 1.
    """


def run_cli(main: Callable[[], object]) -> None:
    """Run ``main``; turn expected failures into a one-line message.

    ``UserError``, a missing file and an unreadable config become
    ``error: <message>`` on stderr with exit code 1. Set ``KNET_DEBUG=1`` to
    see the full traceback instead.
    """
    try:
        main()
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        sys.exit(130)
    except (UserError, FileNotFoundError, NotADirectoryError,
            IsADirectoryError) as e:
        if os.environ.get('KNET_DEBUG'):
            raise
        print(f'error: {_one_line(e)}', file=sys.stderr)
        sys.exit(1)


def _one_line(e: BaseException) -> str:
    if isinstance(e, OSError) and e.filename is not None:
        text = f'{e.filename}: {e.strerror or e}'
    else:
        text = str(e)
    return ' '.join(text.split())


def add_runner_args(parser, example_override: str, launcher_script: str):
    """Options shared by tools/train.py and tools/test.py: ``--cfg-options``,
    ``--launcher`` and the ``--local-rank`` that torch launchers pass."""
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=f'override config entries, e.g. {example_override}')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help=f'job launcher (set by {launcher_script})')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def export_local_rank(args) -> None:
    """Expose ``--local-rank`` as ``LOCAL_RANK`` unless a launcher set it."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
