"""Export a Video K-Net model's network to ONNX and check the result.

:func:`export_onnx` traces the model's exportable network
(:mod:`knet.deployment.graphs`) with PyTorch's ONNX exporter
(``torch.onnx.export(dynamo=True)``, which needs ``onnxscript``), writes the
file atomically with the metadata of :mod:`knet.deployment.metadata`, checks
it with ``onnx.checker`` and runs it in ONNX Runtime against PyTorch on
random frames (for a frame graph: a first frame and a linked second frame;
with a dynamic shape also a second frame size) before it returns.
"""
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from knet.formats.io import (commit_temporary, discard_temporary,
                             reserve_temporary)

from .graphs import CLIP_KIND, build_graph, graph_kind
from .metadata import META_PREFIX, dumps, network_config, weights_digest

__all__ = ['export_onnx', 'ExportReport', 'ExportError', 'Comparison',
           'compare_outputs', 'random_frames']


class ExportError(RuntimeError):
    """The export failed or its check did not pass; ``kept`` is the file
    left in place for inspection (a failed check), else None."""

    kept: Optional[str] = None


@dataclass
class ExportReport:
    """What :func:`export_onnx` wrote and measured.

    Attributes:
        path: the ONNX file.
        kind: graph kind (``video-knet-frame`` / ``video-knet-clip``).
        inputs, outputs: ``(name, shape)`` of the graph's inputs / outputs
            (symbolic dimensions as strings).
        export_s: seconds of tracing, conversion and saving.
        check_s: seconds of the checker and the ONNX Runtime comparison.
        max_abs_diff: per output, the largest |ORT - PyTorch| over the
            checked inputs.
        checked_shapes: the input sizes [H, W] that were compared.
        notes: differences accepted as hard-mask near-ties (see
            :meth:`Comparison.near_tie_only`).
    """
    path: str
    kind: str
    inputs: List[Tuple[str, list]] = field(default_factory=list)
    outputs: List[Tuple[str, list]] = field(default_factory=list)
    export_s: float = 0.0
    check_s: float = 0.0
    max_abs_diff: Dict[str, float] = field(default_factory=dict)
    checked_shapes: List[Tuple[int, int]] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)


def random_frames(model: nn.Module, num: int, shape: Sequence[int],
                  seed: int = 0) -> Tensor:
    """``num`` frames of uniform random pixels, normalised with the model's
    data preprocessor statistics: [num, 3, H, W] float32."""
    gen = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (num, 3, *shape), generator=gen).float()
    pre = model.data_preprocessor
    mean = getattr(pre, 'mean', None)
    std = getattr(pre, 'std', None)
    if mean is not None and std is not None:
        pixels = (pixels - mean.cpu().view(1, -1, 1, 1)) / \
            std.cpu().view(1, -1, 1, 1)
    return pixels


@dataclass
class Comparison:
    """ONNX Runtime vs PyTorch outputs of one run.

    Attributes:
        max_abs_diff: per output, max |ORT - PyTorch| (inf: shape differs).
        tolerance: per output, ``atol + rtol * max|PyTorch|``.
        outliers: per output with a kernel axis, the kernels whose largest
            difference exceeds the tolerance.
    """
    max_abs_diff: Dict[str, float] = field(default_factory=dict)
    tolerance: Dict[str, float] = field(default_factory=dict)
    scale: Dict[str, float] = field(default_factory=dict)
    outliers: Dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every output within its tolerance."""
        return all(self.max_abs_diff[k] <= self.tolerance[k]
                   for k in self.max_abs_diff)

    def worst(self) -> str:
        """The output furthest beyond its tolerance."""
        return max(self.max_abs_diff,
                   key=lambda k: self.max_abs_diff[k] / self.tolerance[k])

    def near_tie_only(self, max_kernels: int, loose: float) -> bool:
        """True when every difference beyond the tolerance is confined to at
        most ``max_kernels`` kernels per output and stays within ``loose``
        times the output's scale: the signature of a hard-mask decision
        (sigmoid > 0.5) taken on the other side of the threshold for a
        logit within rounding of it, which changes one kernel's pooled
        feature. A wrong graph differs in every kernel."""
        for k, diff in self.max_abs_diff.items():
            if diff <= self.tolerance[k]:
                continue
            if k not in self.outliers or self.outliers[k] > max_kernels or \
                    diff > loose * max(1.0, self.scale[k]):
                return False
        return True


def compare_outputs(names: Sequence[str],
                    want: Sequence[Tensor],
                    got: Sequence[Tensor],
                    atol: float = 1e-4,
                    rtol: float = 1e-4,
                    kernel_axes: Optional[Dict[str, Optional[int]]] = None
                    ) -> Comparison:
    """Compare ``got`` (ORT) with ``want`` (PyTorch) output by output."""
    result = Comparison()
    for name, w, g in zip(names, want, got):
        g = torch.as_tensor(g)
        scale = float(w.abs().max()) if w.numel() else 0.0
        result.scale[name] = scale
        result.tolerance[name] = atol + rtol * scale
        if tuple(g.shape) != tuple(w.shape):
            result.max_abs_diff[name] = float('inf')
            continue
        if w.numel() == 0:
            result.max_abs_diff[name] = 0.0
            continue
        diff = (g.to(w.dtype) - w).abs()
        result.max_abs_diff[name] = float(diff.max())
        axis = (kernel_axes or {}).get(name)
        if axis is not None:
            per_kernel = diff.movedim(axis, 0).flatten(1).amax(1)
            result.outliers[name] = int(
                (per_kernel > result.tolerance[name]).sum())
    return result


def _shape_of(value_info) -> list:
    return [d if isinstance(d, int) else str(d) for d in value_info.shape]


def _trace_inputs(graph: nn.Module, kind: str, frames: Tensor
                  ) -> Tuple[Tensor, ...]:
    if kind == CLIP_KIND:
        return (frames, )
    return graph.example_inputs(frames[:1])


def _dynamic_shapes(graph: nn.Module, kind: str, dynamic_shape: bool,
                    divisor: int):
    from torch.export import Dim
    height = width = None
    if dynamic_shape:
        # multiples of the padding divisor (the preprocessor pads to it)
        height = divisor * Dim('h_blocks', min=1, max=4096 // divisor)
        width = divisor * Dim('w_blocks', min=1, max=8192 // divisor)
    if kind == CLIP_KIND:
        return graph.dynamic_shapes(height, width, Dim('frames', min=1,
                                                       max=1024))
    if not dynamic_shape:
        return None
    return graph.dynamic_shapes(height, width)


def _pad_divisor(model: nn.Module) -> int:
    return int(getattr(model.data_preprocessor, 'pad_size_divisor', 1)
               or 1)


def _metadata(model: nn.Module, kind: str, model_cfg: Optional[dict],
              shape: Sequence[int], dynamic_shape: bool,
              num_frames: Optional[int]) -> Dict[str, str]:
    meta = {
        'graph': kind,
        'model_type': type(model).__name__,
        'input_shape': dumps(list(shape)),
        'dynamic_shape': '1' if dynamic_shape else '0',
        'format_version': '1',
        'weights': weights_digest(model),
    }
    if model_cfg is not None:
        meta['network'] = dumps(network_config(model_cfg, kind))
        meta['model_type'] = str(model_cfg.get('type', meta['model_type']))
    if num_frames is not None:
        meta['example_frames'] = str(num_frames)
    dataset_meta = getattr(model, 'dataset_meta', None)
    if dataset_meta:
        try:
            meta['dataset_meta'] = dumps(dataset_meta)
        except (TypeError, ValueError):
            pass  # not JSON-able: the config's dataset meta is used
    return {META_PREFIX + k: v for k, v in meta.items()}


def _save(program, path: str, metadata: Dict[str, str]) -> None:
    program.model.metadata_props.update(metadata)
    program.save(path, external_data=False)


def export_onnx(model: nn.Module,
                path: str,
                shape: Sequence[int],
                dynamic_shape: bool = False,
                opset: Optional[int] = None,
                model_cfg: Optional[dict] = None,
                num_frames: int = 5,
                check: bool = True,
                atol: float = 1e-4,
                rtol: float = 1e-4,
                check_shape: Optional[Sequence[int]] = None,
                threads: Optional[int] = None,
                log: Optional[Callable[[str], None]] = None
                ) -> ExportReport:
    """Export ``model``'s network (frame graph of a ``VideoKNet``, clip
    graph of a ``VideoKNetVIS``) to ``path`` and check it.

    Args:
        model: a CPU model in eval mode (from ``knet.apis.init_model``).
        path: the ONNX file to write (replaced atomically).
        shape: network input size [H, W] (padded; a multiple of the
            preprocessor's ``pad_size_divisor``).
        dynamic_shape: leave H and W free (multiples of the divisor).
        opset: ONNX opset (None: the exporter's default).
        model_cfg: the model config, recorded so that loading checks the
            file against its config.
        num_frames: frames of the example window of a clip graph (its
            frame count is always free).
        check: run ``onnx.checker`` and compare ONNX Runtime with PyTorch.
        atol, rtol: the comparison passes when every output is within
            ``atol + rtol * max|PyTorch output|``, or when the differences
            beyond it are confined to a few kernels (at most 5 % of them,
            within 1 % of the output's scale): a hard-mask decision
            (``sigmoid > 0.5``) on a logit within float rounding of 0,
            which either backend may take either way (a note in the
            report).
        check_shape: the second input size compared with a dynamic shape
            (default: ``shape`` + one divisor block in each direction).
        threads: ONNX Runtime threads of the check (default torch's).
        log: progress messages.

    Returns:
        :class:`ExportReport`. Raises :class:`ExportError` when the checker
        or the comparison fails (the file is left in place for inspection);
        after any other failure or an interruption ``path`` is as it was
        (the file is written and checked under a temporary name).
    """
    kind = graph_kind(model)
    divisor = _pad_divisor(model)
    shape = tuple(int(v) for v in shape)
    if any(v % divisor for v in shape):
        raise ValueError(f'input shape {shape} is not a multiple of the '
                         f'padding divisor {divisor}')
    graph = build_graph(model)
    say = log or (lambda msg: None)
    frames = random_frames(model, num_frames if kind == CLIP_KIND else 2,
                           shape)
    args = _trace_inputs(graph, kind, frames)
    report = ExportReport(path=path, kind=kind)

    say(f'exporting the {kind} network ({type(model).__name__}, input '
        f'{shape[0]}x{shape[1]}, {"dynamic" if dynamic_shape else "static"}'
        ' shape)')
    start = time.perf_counter()
    try:
        with torch.no_grad():
            program = torch.onnx.export(
                graph, args, dynamo=True, verbose=False,
                input_names=list(graph.input_names),
                output_names=list(graph.output_names),
                dynamic_shapes=_dynamic_shapes(graph, kind, dynamic_shape,
                                               divisor),
                opset_version=opset, external_data=False, optimize=True)
    except Exception as e:
        raise ExportError(f'torch.onnx.export failed: {type(e).__name__}: '
                          f'{_first_line(e)}') from e
    # written and checked under a temporary name beside ``path``, renamed
    # onto it at the end: an interrupted export leaves nothing behind
    tmp = reserve_temporary(path)
    try:
        _save(program, tmp,
              _metadata(model, kind, model_cfg, shape, dynamic_shape,
                        num_frames if kind == CLIP_KIND else None))
        report.export_s = time.perf_counter() - start
        if check:
            start = time.perf_counter()
            _check(model, graph, kind, tmp, path, shape, dynamic_shape,
                   divisor, frames, atol, rtol, check_shape, threads, report,
                   say)
            report.check_s = time.perf_counter() - start
        else:
            from .runtime import OrtNetwork
            net = OrtNetwork(tmp, threads=threads)
            report.inputs, report.outputs = net.io_shapes()
            del net
    except ExportError as e:
        commit_temporary(tmp, path)  # a failed check: kept for inspection
        e.kept = path
        raise
    except BaseException:
        discard_temporary(tmp)
        raise
    commit_temporary(tmp, path)
    return report


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


@contextmanager
def _threshold_margins(model: nn.Module, out: List[float]):
    """Collect the smallest |logit| that each update stage thresholds
    (its input masks) into ``out`` while the block runs."""
    def hook(_module, args):
        if len(args) > 2 and args[2].numel():
            out.append(float(args[2].abs().min()))

    roi = getattr(model, 'roi_head', None)
    handles = [
        head.register_forward_pre_hook(hook)
        for head in getattr(roi, 'mask_head', [])
    ]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _check(model, graph, kind, tmp, path, shape, dynamic_shape, divisor,
           frames, atol, rtol, check_shape, threads, report, say) -> None:
    """Check the file written at ``tmp`` (errors name ``path``, the name it
    will have)."""
    import onnx

    from .runtime import OnnxModelError, OrtNetwork
    say('checking the graph (onnx.checker)')
    try:
        onnx.checker.check_model(tmp)
    except Exception as e:
        raise ExportError(f'{path}: onnx.checker: {_first_line(e)}') from e
    say('comparing ONNX Runtime with PyTorch on random frames')
    try:
        net = OrtNetwork(tmp, threads=threads)
    except OnnxModelError as e:
        raise ExportError(f'{path}: ONNX Runtime cannot load the exported '
                          f'file ({_first_line(e).split(": ", 1)[-1]})') \
            from e
    report.inputs, report.outputs = net.io_shapes()
    shapes = [shape]
    if dynamic_shape:
        shapes.append(tuple(check_shape) if check_shape else
                      (shape[0] + divisor, shape[1] + divisor))
    cases = []  # (inputs tuple,) per run
    for i, size in enumerate(shapes):
        clip = frames if size == shape else random_frames(
            model, frames.shape[0], size, seed=i + 1)
        if kind == CLIP_KIND:  # the frame count is free: two counts
            other = clip.shape[0] - 1 if clip.shape[0] > 1 else 2
            cases += [(clip, ),
                      (random_frames(model, other, size, seed=i + 7), )]
            continue
        first = graph.example_inputs(clip[:1])
        with torch.no_grad():
            prev = graph(*first)[graph.output_names.index('object_feats')]
        cases += [first, graph.example_inputs(clip[1:2], prev)]
    names = graph.output_names
    for inputs in cases:
        margin = []
        with torch.no_grad(), _threshold_margins(model, margin):
            want = graph(*inputs)
        got = net.run(dict(zip(graph.input_names, inputs)))
        cmp = compare_outputs(names, want, [got[n] for n in names], atol,
                              rtol, graph.kernel_axes)
        for name in names:
            report.max_abs_diff[name] = max(
                report.max_abs_diff.get(name, 0.0), cmp.max_abs_diff[name])
        if cmp.ok:
            continue
        first = next(i for i, n in enumerate(names)
                     if graph.kernel_axes[n] is not None)
        num_kernels = want[first].shape[graph.kernel_axes[names[first]]]
        worst = cmp.worst()
        if cmp.near_tie_only(max(2, num_kernels // 20), loose=1e-2):
            msg = (f'{max(cmp.outliers.values())} kernel(s) differ by up '
                   f'to {cmp.max_abs_diff[worst]:.3g} in {worst!r} at input '
                   f'{tuple(inputs[0].shape)}: a hard-mask decision on a '
                   'logit within float rounding of 0')
            if margin:
                msg += f' (smallest |logit| {min(margin):.2g})'
            report.notes.append(msg)
            say('note: ' + msg)
            continue
        raise ExportError(
            f'{path}: ONNX Runtime output {worst!r} differs from PyTorch by '
            f'{cmp.max_abs_diff[worst]:.3g} (tolerance '
            f'{cmp.tolerance[worst]:.3g}) at input {tuple(inputs[0].shape)}')
    report.checked_shapes = [tuple(s) for s in shapes]
