"""InfiniteTrackImgSampler: endless, each epoch one permutation of frames."""
import itertools

import pytest

pytest.importorskip('mmdet')

from mmdet.datasets.samplers import TrackImgSampler  # noqa: E402

from knet.datasets.samplers import InfiniteTrackImgSampler  # noqa: E402


class _Videos:
    """Stands in for a BaseVideoDataset: 3 videos of 4, 2 and 5 frames."""
    lengths = (4, 2, 5)
    test_mode = False

    def __len__(self):
        return len(self.lengths)

    def get_len_per_video(self, i):
        return self.lengths[i]


@pytest.fixture
def videos(monkeypatch):
    import mmdet.datasets.samplers.track_img_sampler as mod
    monkeypatch.setattr(mod, 'BaseVideoDataset', _Videos)
    return _Videos()


def test_epochs_chain_without_end(videos):
    sampler = InfiniteTrackImgSampler(videos, seed=7)
    n = sum(videos.lengths)
    assert len(sampler) == n
    drawn = list(itertools.islice(iter(sampler), 4 * n))
    every = {(v, f) for v, k in enumerate(videos.lengths) for f in range(k)}
    epochs = [drawn[i * n:(i + 1) * n] for i in range(4)]
    for e, order in enumerate(epochs):
        assert sorted(order) == sorted(every)  # a permutation per epoch
        # the same order the finite sampler gives for that epoch
        ref = TrackImgSampler(videos, seed=7)
        ref.set_epoch(e)
        assert order == list(iter(ref))
    assert len({tuple(o) for o in epochs}) > 1  # reshuffled


def test_refuses_test_mode(videos):
    videos.test_mode = True
    with pytest.raises(ValueError, match='training'):
        InfiniteTrackImgSampler(videos, seed=0)
