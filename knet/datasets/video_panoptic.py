"""Common base of the video panoptic datasets (KITTI-STEP, VIPSeg, ...).

Built on mmdet 3.x's ``BaseVideoDataset`` data-list structure (one entry per
video: ``video_id``, ``images``, ``video_length``) but indexes the on-disk
tree instead of a COCO JSON: subclasses implement :meth:`index_videos`.
Every frame's info carries ``img_path``, ``seg_map_path`` (None when the
split has no labels), ``img_id`` (unique), ``frame_id`` (position in the
video), ``seq_name``; :meth:`get_data_info` adds the label mapping
(``label_ids``, ``num_things``, ``ignore_index``) that the panoptic loaders
in ``knet.datasets.transforms`` read.
"""
from typing import Dict, List, Sequence, Tuple

from mmdet.datasets import BaseVideoDataset
from mmdet.registry import DATASETS

__all__ = ['VideoPanopticDataset', 'things_first_metainfo']

#: (seq_name, [(img_path, seg_map_path or None, extra dict), ...]) per video
VideoIndex = List[Tuple[str, List[Tuple[str, object, dict]]]]


def things_first_metainfo(names: Sequence[str], ids: Sequence[int],
                          thing_ids: Sequence[int],
                          palette: Sequence[Sequence[int]]) -> dict:
    """Metainfo in model label order: things (in ``thing_ids`` order), then
    stuff (ascending dataset id). ``names``/``palette`` follow ``ids``."""
    by_id = {int(i): (n, tuple(p)) for i, n, p in zip(ids, names, palette)}
    things = [int(i) for i in thing_ids]
    stuff = sorted(i for i in by_id if i not in set(things))
    order = things + stuff
    return dict(
        classes=tuple(by_id[i][0] for i in order),
        thing_classes=tuple(by_id[i][0] for i in things),
        stuff_classes=tuple(by_id[i][0] for i in stuff),
        label_ids=tuple(order),
        palette=[by_id[i][1] for i in order],
        ignore_index=255)


@DATASETS.register_module()
class VideoPanopticDataset(BaseVideoDataset):
    """Base class; subclasses set ``METAINFO`` and ``index_videos``."""

    METAINFO: dict = dict(classes=())

    def index_videos(self) -> VideoIndex:
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        videos = []
        img_id = 0
        for video_id, (seq_name, frames) in enumerate(self.index_videos()):
            images = []
            for frame_id, (img_path, seg_path, extra) in enumerate(frames):
                info = dict(img_path=img_path, seg_map_path=seg_path,
                            img_id=img_id, frame_id=frame_id,
                            seq_name=seq_name)
                info.update(extra)
                images.append(info)
                img_id += 1
            videos.append(dict(video_id=self.video_id_of(video_id, seq_name),
                               seq_name=seq_name, images=images,
                               video_length=len(images)))
        return videos

    def video_id_of(self, index: int, seq_name: str) -> int:
        """Integer ``video_id`` of a video (default: its position)."""
        return index

    def filter_data(self) -> List[dict]:
        """Keep every frame (mmdet's filter needs a COCO index)."""
        return [v for v in self.data_list if v['video_length'] > 0]

    @property
    def num_things(self) -> int:
        return len(self.metainfo.get('thing_classes', ()))

    def get_data_info(self, idx: int) -> Dict:
        info = super().get_data_info(idx)
        label_ids = tuple(self.metainfo['label_ids'])
        ignore = int(self.metainfo.get('ignore_index', 255))
        for frame in info['images']:
            frame.update(label_ids=label_ids, num_things=self.num_things,
                         ignore_index=ignore)
        return info

    def get_cat_ids(self, index) -> List[int]:
        """Not indexed (labels are decoded in the pipeline)."""
        return []
