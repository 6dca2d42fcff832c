"""tools/test.py options that rewrite the test config."""
import os.path as osp
from typing import Optional

from knet.utils.cli import UserError, check_output_path, has_display

__all__ = ['configure_visualization', 'configure_submission',
           'add_pickle_dump']


def configure_visualization(cfg, show: bool, show_dir: Optional[str],
                            wait_time: float) -> None:
    """Turn on the visualisation hook in test mode.

    ``show_dir`` is taken relative to the current directory (made absolute
    here: mmdet's hooks put a relative one under ``<work_dir>/<timestamp>``).
    Video configs (``VideoVisualizationHook``) write one PNG per frame to
    ``<show_dir>/<video>/<frame>.png``, image configs
    (``DetVisualizationHook``) ``<show_dir>/<image file name>``.
    """
    hooks = cfg.default_hooks
    if 'visualization' not in hooks:
        raise UserError('the config has no `default_hooks.visualization`; '
                        'cannot use --show / --show-dir')
    hooks.visualization.draw = True
    if show and not has_display():
        raise UserError('--show needs a display (DISPLAY is not set); use '
                        '--show-dir DIR to write the drawings instead')
    if show:
        hooks.visualization.show = True
        hooks.visualization.wait_time = wait_time
    if show_dir:
        check_output_path(show_dir, 'out-dir', '--show-dir')  # data roots
        hooks.visualization.test_out_dir = osp.abspath(show_dir)


def _metrics(cfg):
    evaluator = cfg.test_evaluator
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    return evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]


def configure_submission(cfg, out_dir: str, format_only: bool) -> None:
    """Make every test metric that can write its official submission layout
    write it to ``out_dir``; with ``format_only`` skip the metric values."""
    check_output_path(out_dir, 'out-dir', '--submission-dir')  # data roots
    writers = 0
    for metric in _metrics(cfg):
        metric['outfile_prefix'] = osp.abspath(out_dir)
        if format_only:
            metric['format_only'] = True
        writers += 1
    if not writers:
        raise UserError('the config has no test_evaluator to write with')


def add_pickle_dump(runner, out: str) -> None:
    """Also dump raw predictions to ``out`` (.pkl / .pickle), atomically."""
    from mmengine.evaluator import DumpResults
    from mmengine.fileio import dump

    from knet.formats.io import atomic_output

    class AtomicDumpResults(DumpResults):
        """mmengine's DumpResults through a temporary file and a rename."""

        def compute_metrics(self, results: list) -> dict:
            with atomic_output(self.out_file_path) as tmp:
                dump(results, tmp, file_format='pkl')
            return {}

    if not out.endswith(('.pkl', '.pickle')):
        raise UserError(f'{out}: --out must end with .pkl or .pickle')
    check_output_path(out, 'out-file', '--out')  # not inside a data root
    runner.test_evaluator.metrics.append(AtomicDumpResults(out_file_path=out))
