"""Where the parity cases recorded from the original Video K-Net live.

Each case is one ``tiny_kitti_*.pt`` file (see ../shared/parity/README.md):
weights, a clip, every intermediate output and a training step. The parity
tests run once per case found, so an added case (e.g. an independent one
with other weights and another clip) is checked without code changes.
The folder is ``$KNET_PARITY_DIR`` if set, else ``shared/parity`` beside the
repository; without any case the parity tests are skipped.
"""
import functools
import os
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
PARITY_DIR = Path(
    os.environ.get('KNET_PARITY_DIR', ROOT.parent / 'shared' / 'parity'))


def case_paths() -> List[Path]:
    """The recorded cases, public case first."""
    paths = sorted(PARITY_DIR.glob('tiny_kitti_*.pt'))
    return sorted(paths, key=lambda p: p.stem != 'tiny_kitti_public')


def case_ids() -> List[str]:
    """Pytest ids of the cases (``['none']`` when there is no case)."""
    return [p.stem for p in case_paths()] or ['none']


@functools.lru_cache(maxsize=2)
def load_case(case_id: str) -> dict:
    """The case's blob; pytest-skips when there is no case."""
    import pytest
    import torch
    path = PARITY_DIR / f'{case_id}.pt'
    if not path.is_file():
        pytest.skip(f'no parity case found in {PARITY_DIR}')
    return torch.load(path, weights_only=True)
