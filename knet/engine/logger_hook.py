"""LoggerHook whose test-metrics JSON is written once and atomically.

MMEngine 0.10's ``LoggerHook.after_test_epoch`` dumps
``<log_dir>/<timestamp>.json`` from every rank to the same path with a
truncating write; in a multi-process test the ranks' outputs (of different
lengths: their timings differ) interleave and can leave an invalid file
(seen as a stray trailing ``}``). Here only the main process writes, through
a temporary file renamed into place. Everything else is MMEngine's hook.
"""
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import dump
from mmengine.hooks import LoggerHook

from mmdet.registry import HOOKS

from knet.formats.io import atomic_output

__all__ = ['AtomicLoggerHook']


@HOOKS.register_module()
class AtomicLoggerHook(LoggerHook):
    """``LoggerHook`` with a main-process, atomic test-metrics JSON."""

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        tag, log_str = runner.log_processor.get_log_after_epoch(
            runner, len(runner.test_dataloader), 'test', with_non_scalar=True)
        runner.logger.info(log_str)
        if not is_main_process():
            return
        path = osp.join(runner.log_dir, self.json_log_path)
        with atomic_output(path) as tmp:
            dump(self._process_tags(tag), tmp, file_format='json')
