"""mmdet 3.3.0 defect: ``TrackDataSample.video_data_samples`` setter prints.

The setter's assertion message is split over two lines so that its second
half, ``f'{value[0]}'``, is a statement of its own: every assignment formats
the whole first frame sample (``repr`` of its ground-truth masks, boxes and
tensors) and throws the string away. Each training iteration assigns it when
the pipeline packs a clip and again when the data preprocessor moves the
clip to the device (``TrackDataSample.to``): ~13 ms per clip of 96 x 192
frames on the CPU, ~10 % of a quickstart iteration.

Importing this module (``knet.engine`` is in every config's
``custom_imports``) replaces the setter with the same checks without the
stray statement. Behaviour is otherwise identical.
"""
from typing import List

from mmdet.structures import DetDataSample, TrackDataSample

__all__ = ['fix_track_data_sample_setter']


def _set_video_data_samples(self, value: List[DetDataSample]) -> None:
    if isinstance(value, DetDataSample):
        value = [value]
    assert isinstance(value, list), 'video_data_samples must be a list'
    assert isinstance(value[0], DetDataSample), (
        'video_data_samples must be a list of DetDataSample, but got '
        f'{value[0]}')
    self.set_field(value, '_video_data_samples', dtype=list)


def fix_track_data_sample_setter() -> None:
    """Install the fixed setter (idempotent)."""
    prop = TrackDataSample.__dict__['video_data_samples']
    if prop.fset is _set_video_data_samples:
        return
    TrackDataSample.video_data_samples = prop.setter(_set_video_data_samples)


fix_track_data_sample_setter()
