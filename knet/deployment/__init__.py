"""Deployment: export the network of a Video K-Net model to ONNX and run it
with ONNX Runtime behind the same API as the PyTorch model.

Needs the optional packages of ``requirements/onnx.txt`` (onnx, onnxscript,
onnxruntime); nothing outside this package imports them.

* :mod:`.graphs`: the exportable networks (per-frame VPS graph, VIS clip
  graph) and their input conventions;
* :mod:`.export`: :func:`export_onnx` (trace, save, check against PyTorch);
* :mod:`.runtime`: :func:`build_ort_model`, the config's model with its
  network in an ONNX Runtime session (``knet.apis.init_model`` uses it for
  ``.onnx`` files);
* :mod:`.metadata`: what the file records and how it is matched to a config.
"""
from .export import ExportError, ExportReport, export_onnx
from .graphs import ClipGraph, FrameGraph, build_graph
from .runtime import (OnnxModelError, OrtNetwork, OrtOptions, OrtVideoKNet,
                      OrtVideoKNetVIS, build_ort_model)

__all__ = [
    'export_onnx', 'ExportReport', 'ExportError', 'FrameGraph', 'ClipGraph',
    'build_graph', 'OrtOptions', 'OrtNetwork', 'OrtVideoKNet',
    'OrtVideoKNetVIS', 'OnnxModelError', 'build_ort_model'
]
