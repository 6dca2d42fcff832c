"""ONNX Runtime backend: the config's model with its network in ORT.

:func:`build_ort_model` builds the config's ``VideoKNet`` / ``VideoKNetVIS``
as :class:`OrtVideoKNet` / :class:`OrtVideoKNetVIS`: the same class with its
network modules dropped and the network call (``forward_frame`` /
``_window_forward``) answered by an ONNX Runtime session of an exported file.
Everything else, the data preprocessor, the panoptic merge, the semantic
filter, the tracker, the VIS window association and ranking, is the model's
own code, so ``knet.apis.inference_vps`` / ``inference_vis``, ``test_step``
and the demo drive both backends the same way.

Session options (:class:`OrtOptions`) default to what measured fastest for
these graphs on CPU: all graph optimisations (NCHWc layout included),
sequential execution, torch's intra-op thread count, memory pattern and
arena on.
"""
import gc
import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from knet.models.detectors import VideoKNet, VideoKNetVIS
from knet.utils.cli import UserError
from .graphs import CLIP_KIND, FRAME_KIND, ClipGraph, FrameGraph
from .metadata import (ABSENT, META_PREFIX, dumps, first_difference,
                       network_config)

__all__ = [
    'OrtOptions', 'OrtNetwork', 'OrtVideoKNet', 'OrtVideoKNetVIS',
    'OnnxModelError', 'build_ort_model'
]

_OPT_LEVELS = ('disable', 'basic', 'extended', 'layout', 'all')


class OnnxModelError(UserError):
    """An ONNX file that cannot be read, or does not match its config or
    input; the message names the file and what is wrong (one line)."""


def require_onnxruntime():
    """The ``onnxruntime`` module, or a UserError naming the optional
    requirement."""
    try:
        import onnxruntime
    except ImportError as e:
        raise UserError(
            'the ONNX Runtime backend needs the optional packages of '
            'requirements/onnx.txt (pip install -r requirements/onnx.txt): '
            f'{e}') from e
    return onnxruntime


@dataclass
class OrtOptions:
    """ONNX Runtime session settings.

    Attributes:
        threads: intra-op threads (None: ``torch.get_num_threads()``, so
            both backends use the same number).
        graph_optimization: 'disable' | 'basic' | 'extended' | 'layout' |
            'all' (ORT's levels; 'all' includes the NCHWc layout
            transformation that speeds up convolutions on CPU).
        memory_pattern: pre-plan the buffers from the first run (static
            shapes profit; ORT re-plans when the input size changes).
        cpu_arena: ORT's CPU memory arena.
        spinning: intra-op workers spin while waiting (lower latency on an
            idle machine; wasted cores when they are shared).
        device: 'cpu' or 'cuda[:i]' (the CUDA provider of onnxruntime-gpu).
    """
    threads: Optional[int] = None
    graph_optimization: str = 'all'
    memory_pattern: bool = True
    cpu_arena: bool = True
    spinning: bool = True
    device: str = 'cpu'

    def session_options(self, ort):
        if self.graph_optimization not in _OPT_LEVELS:
            raise UserError(f'unknown graph optimisation level '
                            f'{self.graph_optimization!r} (one of '
                            f'{", ".join(_OPT_LEVELS)})')
        level = ort.GraphOptimizationLevel
        levels = dict(disable=level.ORT_DISABLE_ALL,
                      basic=level.ORT_ENABLE_BASIC,
                      extended=level.ORT_ENABLE_EXTENDED,
                      layout=getattr(level, 'ORT_ENABLE_LAYOUT',
                                     level.ORT_ENABLE_ALL),
                      all=level.ORT_ENABLE_ALL)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = levels[self.graph_optimization]
        opts.intra_op_num_threads = int(self.threads or
                                        torch.get_num_threads())
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.enable_mem_pattern = bool(self.memory_pattern)
        opts.enable_cpu_mem_arena = bool(self.cpu_arena)
        opts.add_session_config_entry('session.intra_op.allow_spinning',
                                      '1' if self.spinning else '0')
        opts.log_severity_level = 3  # errors only
        return opts

    def providers(self, ort) -> List:
        if not self.device.startswith('cuda'):
            return ['CPUExecutionProvider']
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise UserError(f'device {self.device}: this onnxruntime has no '
                            'CUDA provider (install onnxruntime-gpu)')
        index = int(self.device.split(':')[1]) if ':' in self.device else 0
        return [('CUDAExecutionProvider', dict(device_id=index)),
                'CPUExecutionProvider']


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0] if lines else type(e).__name__


class OrtNetwork:
    """One ONNX Runtime session of an exported file.

    Args:
        path: the ONNX file.
        options: :class:`OrtOptions` (default settings if None).
        threads: shortcut for ``options.threads``.
    """

    def __init__(self, path: str, options: Optional[OrtOptions] = None,
                 threads: Optional[int] = None) -> None:
        ort = require_onnxruntime()
        self.path = str(path)
        self.options = options or OrtOptions()
        if threads is not None:
            self.options.threads = threads
        try:
            self.session = ort.InferenceSession(
                self.path, self.options.session_options(ort),
                providers=self.options.providers(ort))
        except UserError:
            raise
        except Exception as e:  # truncated, not ONNX, unsupported ops
            raise OnnxModelError(
                f'{self.path}: not a loadable ONNX model '
                f'({_first_line(e)})') from e
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = {
            k[len(META_PREFIX):]: v
            for k, v in meta.items() if k.startswith(META_PREFIX)
        }
        self.inputs = {i.name: i for i in self.session.get_inputs()}
        self.output_names = [o.name for o in self.session.get_outputs()]

    def io_shapes(self) -> Tuple[List[Tuple[str, list]], ...]:
        """``(inputs, outputs)`` as ``(name, shape)`` lists."""
        def shape(v):
            return [d if isinstance(d, int) else str(d) for d in v.shape]
        return ([(i.name, shape(i)) for i in self.session.get_inputs()],
                [(o.name, shape(o)) for o in self.session.get_outputs()])

    def check_input(self, name: str, value: Tensor) -> None:
        """OnnxModelError when ``value`` cannot feed input ``name`` (a
        static dimension differs)."""
        want = self.inputs[name].shape
        got = tuple(value.shape)
        bad = len(want) != len(got) or any(
            isinstance(w, int) and w != g for w, g in zip(want, got))
        if bad:
            hint = ' (exported with a static shape: export with ' \
                '--dynamic-shape or --shape of this size)' \
                if name in ('img', 'frames') else ''
            raise OnnxModelError(
                f'{self.path}: input {name!r} takes shape '
                f'{[w if isinstance(w, int) else "*" for w in want]}, got '
                f'{list(got)}{hint}')

    def run(self, feeds: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Run the graph; torch tensors in (any device), CPU torch tensors
        out, by output name."""
        arrays = {}
        for name, value in feeds.items():
            self.check_input(name, value)
            arrays[name] = np.ascontiguousarray(value.detach().cpu().numpy())
        outs = self.session.run(self.output_names, arrays)
        return {
            n: torch.from_numpy(np.asarray(o))
            for n, o in zip(self.output_names, outs)
        }


def _check_file(net: OrtNetwork, kind: str, model_cfg: dict,
                config_name: str) -> None:
    """OnnxModelError when ``net``'s file was not exported from a network
    like ``model_cfg``'s (graph kind, network config, input/output names)."""
    meta = net.metadata
    path = net.path
    if 'graph' not in meta:
        raise OnnxModelError(
            f'{path}: no Video K-Net metadata (export the model with '
            'tools/deployment/export_onnx.py)')
    if meta['graph'] != kind:
        raise OnnxModelError(
            f'{path}: holds a {meta["graph"]} graph ({meta.get("model_type")}'
            f'), but {config_name} is a {type_name(model_cfg)} model that '
            f'needs a {kind} graph')
    if 'network' in meta:
        stored = json.loads(meta['network'])
        current = json.loads(dumps(network_config(model_cfg, kind)))
        diff = first_difference(stored, current)
        if diff is not None:
            where, a, b = diff
            raise OnnxModelError(
                f'{path}: exported from another model than {config_name}: '
                f'model.{where} is {_short(a)} in the file, {_short(b)} in '
                'the config')
    if kind == FRAME_KIND:
        inputs_ok = 'img' in net.inputs and set(net.inputs) <= set(
            ('img', 'prev_kernels', 'prev_valid'))
        outputs = FrameGraph.output_names
    else:
        inputs_ok = set(net.inputs) == set(ClipGraph.input_names)
        outputs = ClipGraph.output_names
    if not inputs_ok or not set(outputs) <= set(net.output_names):
        raise OnnxModelError(
            f'{path}: unexpected graph inputs/outputs {sorted(net.inputs)} '
            f'-> {net.output_names}')


def type_name(model_cfg: dict) -> str:
    return str(model_cfg.get('type', '?'))


def _short(value, limit: int = 60) -> str:
    if value is ABSENT:
        return 'absent'
    text = json.dumps(value, sort_keys=True) if not isinstance(
        value, str) else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _drop(module: nn.Module, *names: str) -> None:
    for name in names:
        if getattr(module, name, None) is not None:
            setattr(module, name, None)


class OrtVideoKNet(VideoKNet):
    """``VideoKNet`` whose per-frame network is an ONNX Runtime session.

    Args:
        network: the session of an exported frame graph.
        *args, **kwargs: the config's ``VideoKNet`` arguments (the network
            modules are built and dropped; post-processing settings apply).
    """

    def __init__(self, *args, network: OrtNetwork, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.network = network
        self.linked_graph = 'prev_kernels' in network.inputs
        if self.link_previous and not self.linked_graph:
            raise OnnxModelError(
                f'{network.path}: the graph has no previous-kernel input '
                'but the config links frames (link_previous=True)')
        if self.linked_graph:
            self._prev_shape = [
                d if isinstance(d, int) else 1
                for d in network.inputs['prev_kernels'].shape
            ]
        # the network runs in ORT: free its PyTorch modules
        _drop(self, 'backbone', 'neck', 'rpn_head', 'embed_fcs', 'fc_embed',
              'track_head')
        self.roi_head.mask_head = nn.ModuleList()
        gc.collect()

    def forward_frame(self,
                      img: Tensor,
                      previous_obj_feats: Optional[Tensor] = None,
                      previous_valid: Optional[Tensor] = None
                      ) -> Dict[str, Optional[Tensor]]:
        """:meth:`VideoKNet.forward_frame` in ONNX Runtime (batch 1), plus
        ``track_embeds`` [1, P, D] of every thing kernel."""
        feeds = {'img': img}
        if self.linked_graph:
            if previous_obj_feats is None:
                feeds['prev_kernels'] = img.new_zeros(self._prev_shape)
                valid = False
            else:
                feeds['prev_kernels'] = previous_obj_feats
                valid = True
            feeds['prev_valid'] = torch.tensor(
                [valid]) if previous_valid is None else previous_valid
        outs = self.network.run(feeds)
        device = img.device
        result = {k: outs[k].to(device) for k in FrameGraph.output_names}
        result['object_feats_track'] = None
        return result


class OrtVideoKNetVIS(VideoKNetVIS):
    """``VideoKNetVIS`` whose window network (image K-Net on every frame +
    clip head) is an ONNX Runtime session; the whole window runs at once
    (``frame_batch`` does not apply)."""

    def __init__(self, *args, network: OrtNetwork, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.network = network
        _drop(self, 'backbone', 'neck', 'rpn_head')
        self.roi_head.mask_head = nn.ModuleList()
        self.tracker.mask_head = nn.ModuleList()
        gc.collect()

    def _window_forward(self, frames: Tensor) -> dict:
        outs = self.network.run({'frames': frames})
        return {k: outs[k].to(frames.device) for k in ClipGraph.output_names}


def build_ort_model(model_cfg: dict,
                    onnx_file: str,
                    options: Optional[OrtOptions] = None,
                    config_name: str = 'the config') -> nn.Module:
    """The config's model with its network in ONNX Runtime (eval mode).

    Args:
        model_cfg: the config's ``model`` (registries initialised).
        onnx_file: a file written by :func:`knet.deployment.export_onnx`.
        options: session settings.
        config_name: how errors name the config.

    Raises:
        OnnxModelError: unreadable file, another graph kind or another
            network than ``model_cfg``'s.
    """
    from mmdet.registry import MODELS
    cls = MODELS.get(model_cfg['type'])
    if cls is None or not issubclass(cls, (VideoKNet, VideoKNetVIS)):
        raise UserError(
            f'{config_name}: model type {model_cfg.get("type")!r} has no '
            'ONNX Runtime backend (VideoKNet and VideoKNetVIS have)')
    kind = CLIP_KIND if issubclass(cls, VideoKNetVIS) else FRAME_KIND
    net = OrtNetwork(onnx_file, options)
    _check_file(net, kind, model_cfg, config_name)
    kwargs = {k: v for k, v in model_cfg.items() if k != 'type'}
    ort_cls = OrtVideoKNetVIS if kind == CLIP_KIND else OrtVideoKNet
    model = ort_cls(network=net, **kwargs)
    model.dataset_meta = json.loads(net.metadata['dataset_meta']) \
        if 'dataset_meta' in net.metadata else None
    return model.eval()
