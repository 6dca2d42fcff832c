"""Endless frame sampler for iteration-based training on video datasets.

MMEngine's ``IterBasedTrainLoop`` restarts a finite sampler at the end of
each epoch and sleeps 2 s there (a deadlock guard). On the small datasets of
the quickstart an epoch is ~60 iterations, so those pauses cost ~15 % of the
run. This sampler never ends: it chains the shuffled epochs of mmdet's
``TrackImgSampler`` (same per-epoch order for the same seed and epoch).
"""
from typing import Iterator

from mmdet.datasets.samplers import TrackImgSampler
from mmdet.registry import DATA_SAMPLERS

__all__ = ['InfiniteTrackImgSampler']


@DATA_SAMPLERS.register_module()
class InfiniteTrackImgSampler(TrackImgSampler):
    """``TrackImgSampler`` whose iterator runs over epoch after epoch.

    Training only (a test loop needs a finite pass over the videos). The
    epoch counter advances inside the iterator; ``set_epoch`` sets the
    epoch the next iterator starts from.
    """

    def __init__(self, dataset, seed=None) -> None:
        super().__init__(dataset, seed=seed)
        if self.test_mode:
            raise ValueError('InfiniteTrackImgSampler is for training; use '
                             'TrackImgSampler in test mode')

    def __iter__(self) -> Iterator:
        epoch = self.epoch
        while True:
            self.epoch = epoch
            yield from super().__iter__()
            epoch += 1
