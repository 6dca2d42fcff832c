"""The TrackDataSample setter no longer formats its first frame."""
import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.structures import InstanceData  # noqa: E402

import knet.engine  # noqa: E402,F401  (installs the fix)
from mmdet.structures import DetDataSample, TrackDataSample  # noqa: E402


def test_setter_does_not_call_repr(monkeypatch):
    calls = []
    original = DetDataSample.__repr__

    def counting_repr(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(DetDataSample, '__repr__', counting_repr)
    det = DetDataSample()
    det.gt_instances = InstanceData(labels=torch.tensor([1, 2]))
    track = TrackDataSample()
    track.video_data_samples = [det, DetDataSample()]
    moved = track.to('cpu')
    assert calls == []
    assert len(moved) == 2 and torch.equal(
        moved[0].gt_instances.labels, torch.tensor([1, 2]))
    track.video_data_samples = det  # a single sample becomes a list
    assert len(track) == 1
    with pytest.raises(AssertionError, match='DetDataSample'):
        track.video_data_samples = [object()]
