"""Build a model from a config and run online video panoptic inference.

``init_model(config, checkpoint)`` mirrors mmdet's ``init_detector``;
``inference_vps(model, frames)`` feeds the frames of ONE sequence (scaled by
the ``Resize`` steps of the config's test pipeline, if any) through the
model's data preprocessor and ``predict`` one at a time and yields per frame
the semantic map in the dataset's own label ids and the track-id map. Only the
current frame, the previous frame's kernels and the tracker memory are held,
so memory stays bounded for any video length.
"""
import copy
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmdet.registry import DATASETS, MODELS, TRANSFORMS
from mmdet.structures import DetDataSample, TrackDataSample

from knet.formats.labels import LabelSpace
from ..models.utils.checkpoint_loading import load_model_checkpoint

__all__ = [
    'init_model', 'inference_vps', 'inference_vis', 'VPSFrameResult',
    'VISFrameResult', 'model_device', 'network_input_shape'
]

# negative video ids: never equal to a dataset's ids, new for every call
_VIDEO_IDS = itertools.count(start=-1, step=-1)


@dataclass
class VPSFrameResult:
    """Prediction for one frame (H x W, the frame's own size).

    Attributes:
        semantic: dataset label ids (e.g. Cityscapes trainIds for KITTI-STEP)
            via ``dataset_meta['label_ids']``; model labels if unknown.
        track_ids: track id per pixel, 0 = no track (stuff or untracked).
        labels: model labels (things first, then stuff).
    """
    semantic: np.ndarray
    track_ids: np.ndarray
    labels: np.ndarray


@dataclass
class VISFrameResult:
    """Video instance segmentation result of one frame (H x W).

    Attributes:
        masks: [K, H, W] bool, one per video-level instance.
        labels: [K] model labels (``dataset_meta['classes']`` order).
        scores: [K] instance scores.
        instances_id: [K] instance (track) ids, the same in every frame.
    """
    masks: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    instances_id: np.ndarray


def _dataset_meta_from_cfg(cfg: Config) -> Optional[dict]:
    """metainfo of the config's test (or val/train) dataset class."""
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key)
        if not loader or 'dataset' not in loader:
            continue
        ds = loader['dataset']
        while 'dataset' in ds and ds.get('type') in ('RepeatDataset',
                                                     'ConcatDataset'):
            ds = ds['dataset']
        cls = DATASETS.get(ds.get('type')) if ds.get('type') else None
        if 'dataset_version' in ds and hasattr(cls, 'set_dataset_classes'):
            # YouTubeVISDataset sets its class list when it is built
            cls.set_dataset_classes(str(ds['dataset_version']))
        meta = dict(getattr(cls, 'METAINFO', {}) or {})
        meta.update(ds.get('metainfo', {}) or {})
        if meta:
            return meta
    return None


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True,
               backend: Optional[str] = None,
               ort_options=None) -> torch.nn.Module:
    """Build the model of ``config``, load ``checkpoint`` (if any), eval mode.

    Nothing is downloaded: the backbone's pretrained ``init_cfg`` is dropped.
    The checkpoint must fit the model (``strict=False``: load what fits,
    list the rest); one of the original release is converted in memory
    (:func:`knet.models.utils.load_model_checkpoint`).
    ``model.dataset_meta`` comes from the checkpoint's meta, else from the
    config's dataset class.

    Args:
        backend: 'pytorch' or 'onnxruntime'; None picks 'onnxruntime' for a
            ``.onnx`` checkpoint (a file written by
            ``tools/deployment/export_onnx.py``), else 'pytorch'. The
            ONNX Runtime model (:mod:`knet.deployment`) runs the exported
            network and the config's own post-processing and tracker, and
            is driven by :func:`inference_vps` / :func:`inference_vis` and
            ``test_step`` like the PyTorch one.
        ort_options: :class:`knet.deployment.OrtOptions` (session settings)
            of the 'onnxruntime' backend.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(
        str(config))
    cfg = copy.deepcopy(cfg)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from knet.utils.setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    if cfg.model.get('backbone') is not None:
        cfg.model.backbone.init_cfg = None
    cfg.model.pop('init_cfg', None)
    if backend is None:
        backend = 'onnxruntime' if checkpoint is not None and str(
            checkpoint).lower().endswith('.onnx') else 'pytorch'
    if backend not in ('pytorch', 'onnxruntime'):
        raise ValueError(f'unknown backend {backend!r} (pytorch or '
                         'onnxruntime)')
    meta = None
    if backend == 'onnxruntime':
        if checkpoint is None:
            raise ValueError('the onnxruntime backend needs an .onnx file')
        from knet.deployment import OrtOptions, build_ort_model
        options = copy.copy(ort_options) if ort_options else OrtOptions()
        options.device = str(device)
        name = config if not isinstance(config, Config) else 'the config'
        model = build_ort_model(cfg.model, str(checkpoint), options,
                                config_name=str(name))
        meta = model.dataset_meta
    else:
        # inference never synchronises batch statistics (as mmdet's
        # init_detector): SyncBN layers become BN
        model = revert_sync_batchnorm(MODELS.build(cfg.model))
        if checkpoint is not None:
            ckpt = load_model_checkpoint(model, str(checkpoint),
                                         strict=strict)
            meta = (ckpt.get('meta') or {}).get('dataset_meta') \
                if isinstance(ckpt.get('meta'), dict) else None
    if meta is None:
        meta = _dataset_meta_from_cfg(cfg)
    model.dataset_meta = meta
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of the model's tensors (an ONNX Runtime model holds only
    its data preprocessor's buffers)."""
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        return tensor.device
    return torch.device('cpu')


def network_input_shape(model: torch.nn.Module,
                        frame_shape: Sequence[int]) -> Tuple[int, int]:
    """The network input size [H, W] of ``frame_shape`` frames: after the
    config's test ``Resize`` steps and the preprocessor's padding (what an
    export with a static shape must be traced at)."""
    h, w = (int(v) for v in frame_shape[:2])
    img, det = _prepare_frame(np.zeros((h, w, 3), np.uint8),
                              _test_resizes(getattr(model, 'cfg', None)),
                              False, 0, 0, 1)
    div = int(getattr(model.data_preprocessor, 'pad_size_divisor', 1) or 1)
    ih, iw = img.shape[-2:]
    return (-(-ih // div) * div, -(-iw // div) * div)


def _test_resizes(cfg: Optional[Config]) -> list:
    """The ``Resize`` steps of the config's test pipeline (built), so that
    frames given as arrays are scaled as ``tools/test.py`` scales them."""
    if cfg is None:
        return []
    loader = cfg.get('test_dataloader') or {}
    pipeline = (loader.get('dataset') or {}).get('pipeline') or cfg.get(
        'test_pipeline') or []
    steps = []
    for step in pipeline:
        inner = step.get('transforms', []) if step.get(
            'type') == 'TransformBroadcaster' else [step]
        steps += [t for t in inner if t.get('type') == 'Resize']
    return [TRANSFORMS.build(copy.deepcopy(t)) for t in steps]


def _frame_det_sample(shape: Sequence[int], video_id: int, frame_id: int,
                      video_length: int,
                      img_shape: Optional[Sequence[int]] = None,
                      scale_factor=(1.0, 1.0)) -> DetDataSample:
    h, w = int(shape[0]), int(shape[1])
    img_shape = (h, w) if img_shape is None else tuple(img_shape[:2])
    det = DetDataSample(
        metainfo=dict(
            img_shape=img_shape,
            ori_shape=(h, w),
            scale_factor=tuple(scale_factor),
            flip=False,
            flip_direction=None,
            video_id=video_id,
            frame_id=frame_id,
            video_length=video_length,
            img_path=None,
            seq_name=str(video_id)))
    det.gt_instances = InstanceData()
    return det


def _track_sample(dets: Sequence[DetDataSample]) -> TrackDataSample:
    track = TrackDataSample()
    track.video_data_samples = list(dets)
    track.set_metainfo(
        dict(key_frames_inds=list(range(len(dets))), ref_frames_inds=[]))
    return track


def _prepare_frame(frame: np.ndarray, resizes: list, flip: bool, video_id,
                   frame_id: int, video_length: int):
    """uint8 RGB frame -> (uint8 [3, h, w] tensor in the preprocessor's input
    channel order, its DetDataSample)."""
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError('frames must be H x W x 3 uint8 RGB arrays, got '
                         f'{frame.dtype} {frame.shape}')
    bgr = np.ascontiguousarray(frame[..., ::-1])
    results = dict(img=bgr, img_shape=frame.shape[:2],
                   ori_shape=frame.shape[:2], scale_factor=(1.0, 1.0))
    for resize in resizes:
        results = resize(results)
    # the preprocessor flips channels when configured for BGR-loaded images
    img = results['img'] if flip else results['img'][..., ::-1]
    tensor = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)
    det = _frame_det_sample(frame.shape, video_id, frame_id, video_length,
                            results['img_shape'], results['scale_factor'])
    return tensor, det


@torch.no_grad()
def inference_vps(model: torch.nn.Module,
                  frames: Iterable[np.ndarray],
                  video_length: int = -1) -> Iterator[VPSFrameResult]:
    """Online video panoptic segmentation of ONE sequence.

    Args:
        model: a VPS model from :func:`init_model` (in eval mode).
        frames: H x W x 3 uint8 RGB arrays, in video order.
        video_length: number of frames if known (metainfo only).

    Yields:
        :class:`VPSFrameResult` per frame.
    """
    video_id = next(_VIDEO_IDS)
    if hasattr(model, 'reset_video_state'):
        model.reset_video_state()
    pre = model.data_preprocessor
    flip = bool(getattr(pre, '_channel_conversion', False))
    meta = getattr(model, 'dataset_meta', None) or {}
    label_space = LabelSpace(meta) if meta.get('label_ids') is not None \
        else None
    device = model_device(model)
    resizes = _test_resizes(getattr(model, 'cfg', None))
    for frame_id, frame in enumerate(frames):
        img, det = _prepare_frame(frame, resizes, flip, video_id, frame_id,
                                  video_length)
        data = pre(
            dict(inputs=[img[None].to(device)],
                 data_samples=[_track_sample([det])]), False)
        out = model.predict(data['inputs'], data['data_samples'])
        pred = out[0][0].pred_panoptic_seg
        labels = pred.sem_seg[0].cpu().numpy().astype(np.int64)
        track_ids = pred.track_ids[0].cpu().numpy().astype(np.int64)
        semantic = label_space.to_dataset(labels) \
            if label_space is not None else labels
        yield VPSFrameResult(
            semantic=semantic, track_ids=track_ids, labels=labels)


@torch.no_grad()
def inference_vis(model: torch.nn.Module,
                  frames: Iterable[np.ndarray]) -> Iterator[VISFrameResult]:
    """Video instance segmentation of ONE video with a clip-level model
    (``VideoKNetVIS``).

    The model ranks instances over the whole video, so every frame is read
    (kept as uint8) before the first result is yielded; the network itself
    runs window by window (``window_size`` of the model), so its memory does
    not grow with the video length.

    Args:
        model: a VIS model from :func:`init_model`.
        frames: H x W x 3 uint8 RGB arrays, in video order.

    Yields:
        :class:`VISFrameResult` per frame.
    """
    pre = model.data_preprocessor
    flip = bool(getattr(pre, '_channel_conversion', False))
    device = model_device(model)
    resizes = _test_resizes(getattr(model, 'cfg', None))
    video_id = next(_VIDEO_IDS)
    imgs, dets = [], []
    for frame_id, frame in enumerate(frames):
        img, det = _prepare_frame(frame, resizes, flip, video_id, frame_id,
                                  -1)
        imgs.append(img)
        dets.append(det)
    if not imgs:
        return
    for det in dets:
        det.set_metainfo(dict(video_length=len(dets)))
    data = pre(
        dict(inputs=[torch.stack(imgs).to(device)],
             data_samples=[_track_sample(dets)]), False)
    del imgs
    out = model.predict(data['inputs'], data['data_samples'])
    for det in out[0].video_data_samples:
        res = det.pred_track_instances
        yield VISFrameResult(
            masks=res.masks.cpu().numpy().astype(bool),
            labels=res.labels.cpu().numpy(),
            scores=res.scores.cpu().numpy(),
            instances_id=res.instances_id.cpu().numpy())
