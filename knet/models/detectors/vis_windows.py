"""Windowed inference of VIS models on long videos (pure torch + scipy).

The release fed a whole video as one clip, so memory grew with the video.
Here a video is cut into overlapping windows; each window is one clip. The N
kernels of consecutive windows are associated by Hungarian matching on a
similarity of their clip kernels (cosine) and of their masks on the overlap
frames (soft dice), so a kernel slot of a window continues the track of the
matched slot of the previous window. Each frame is "owned" by one window
(overlaps are split at their middle); a track's class scores are the mean of
its windows' scores weighted by the owned frames. With one window (window >=
video length) this is exactly the whole-clip inference.
"""
from typing import List, Optional, Tuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

__all__ = [
    'plan_windows', 'owned_ranges', 'soft_dice_matrix', 'associate_kernels',
    'TrackScoreAccumulator'
]


def plan_windows(num_frames: int, window: Optional[int],
                 overlap: int = 0) -> List[Tuple[int, int]]:
    """Half-open ``(start, end)`` windows of at most ``window`` frames that
    overlap by ``overlap`` frames and cover ``range(num_frames)``.

    ``window`` None or <= 0 or >= num_frames: one window. The last window is
    shifted back so that it is full length (its overlap with the previous
    one may then be larger than ``overlap``).
    """
    if num_frames <= 0:
        return []
    if not window or window <= 0 or window >= num_frames:
        return [(0, num_frames)]
    if not 0 <= overlap < window:
        raise ValueError(f'overlap {overlap} must be in [0, {window})')
    step = window - overlap
    windows = []
    start = 0
    while True:
        end = start + window
        if end >= num_frames:
            windows.append((max(0, num_frames - window), num_frames))
            break
        windows.append((start, end))
        start += step
    return windows


def owned_ranges(windows: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """Frames each window answers for: overlaps are split at their middle
    (the earlier window keeps the first half, rounded down)."""
    owned = []
    for i, (s, e) in enumerate(windows):
        lo = s if i == 0 else owned[-1][1]
        if i + 1 < len(windows):
            ns = windows[i + 1][0]
            hi = ns + (e - ns) // 2 if ns < e else e
        else:
            hi = e
        owned.append((lo, max(lo, hi)))
    return owned


def soft_dice_matrix(a: Tensor, b: Tensor, eps: float = 1e-6) -> Tensor:
    """Soft dice between every pair of ``a`` [N, ...] and ``b`` [M, ...]
    probability maps -> [N, M]."""
    a = a.flatten(1).float()
    b = b.flatten(1).float()
    inter = a @ b.t()
    return 2 * inter / (a.sum(1)[:, None] + b.sum(1)[None] + eps)


def associate_kernels(prev_embed: Tensor,
                      cur_embed: Tensor,
                      prev_masks: Optional[Tensor] = None,
                      cur_masks: Optional[Tensor] = None,
                      kernel_weight: float = 1.0,
                      mask_weight: float = 1.0) -> Tensor:
    """Hungarian association of the kernels of two consecutive windows.

    Args:
        prev_embed, cur_embed: [N, D] clip kernels (any scale).
        prev_masks, cur_masks: [F_o, N, h, w] mask probabilities of both
            windows on their common frames (or None: kernels only).
        kernel_weight, mask_weight: weights of the cosine similarity and the
            overlap soft dice in the similarity.

    Returns:
        [N] long: for each current kernel, the index of the previous kernel
        it continues.
    """
    n = cur_embed.shape[0]
    pe = torch.nn.functional.normalize(prev_embed.flatten(1).float(), dim=1)
    ce = torch.nn.functional.normalize(cur_embed.flatten(1).float(), dim=1)
    sim = kernel_weight * (ce @ pe.t())
    if prev_masks is not None and cur_masks is not None and \
            prev_masks.shape[0] > 0 and mask_weight:
        sim = sim + mask_weight * soft_dice_matrix(
            cur_masks.transpose(0, 1), prev_masks.transpose(0, 1))
    rows, cols = linear_sum_assignment(-sim.detach().cpu().numpy())
    match = np.empty(n, dtype=np.int64)
    match[rows] = cols
    return torch.from_numpy(match).to(cur_embed.device)


class TrackScoreAccumulator:
    """Frame-weighted mean of per-window class scores of each track.

    Track ids are the kernel indices of the first window; later windows map
    their kernels to tracks through :func:`associate_kernels`.
    """

    def __init__(self, num_tracks: int, num_classes: int) -> None:
        self.sum: Optional[Tensor] = None
        self.weight = 0
        self.num_windows = 0
        self.single: Optional[Tensor] = None
        self.shape = (num_tracks, num_classes)

    def add(self, track_of_kernel: Tensor, scores: Tensor,
            num_frames: int) -> None:
        """``scores`` [N, C] of a window's kernels, ``num_frames`` it owns."""
        per_track = torch.zeros(self.shape, dtype=scores.dtype,
                                device=scores.device)
        per_track[track_of_kernel] = scores
        self.single = per_track if self.num_windows == 0 else None
        weighted = per_track * num_frames
        self.sum = weighted if self.sum is None else self.sum + weighted
        self.weight += num_frames
        self.num_windows += 1

    def result(self) -> Tensor:
        """[num_tracks, C] scores (the window's own with a single window)."""
        if self.num_windows == 1:
            return self.single
        return self.sum / max(self.weight, 1)
