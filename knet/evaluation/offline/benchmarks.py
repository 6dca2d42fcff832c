"""Evaluation protocol of each video panoptic benchmark (VPQ windows and
their names), shared by ``VPSMetric`` and ``tools/eval_vps.py``."""
from typing import List, Optional, Sequence, Tuple

__all__ = ['VPS_BENCHMARKS', 'vpq_windows', 'window_labels']

#: Benchmark -> the official VPQ window lengths (in frames): VPSNet's
#: Cityscapes-VPS script and the KITTI-STEP runs use 1-4, VIPSeg 1 2 4 6 8.
_DEFAULT_WINDOWS = {
    'kitti-step': (1, 2, 3, 4),
    'vipseg': (1, 2, 4, 6, 8),
    'cityscapes-vps': (1, 2, 3, 4),
}
VPS_BENCHMARKS = tuple(_DEFAULT_WINDOWS)


def vpq_windows(benchmark: str,
                windows: Optional[Sequence[int]] = None) -> Tuple[int, ...]:
    """``windows`` or the benchmark's official ones."""
    if benchmark not in _DEFAULT_WINDOWS:
        raise ValueError(f'unknown benchmark {benchmark!r}; one of '
                         f'{", ".join(VPS_BENCHMARKS)}')
    return tuple(int(n) for n in (windows or _DEFAULT_WINDOWS[benchmark]))


def window_labels(benchmark: str, windows: Sequence[int]) -> List[str]:
    """Names of the windows in the results. Cityscapes-VPS annotates every
    5th frame, so VPSNet reports a window of n annotated frames as
    k = 5 (n - 1) (0, 5, 10, 15); the others use the length."""
    if benchmark == 'cityscapes-vps':
        return [str((n - 1) * 5) for n in windows]
    return [str(n) for n in windows]
