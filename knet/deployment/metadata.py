"""What an exported ONNX file records about its model, and the checks that
a file matches the config it is loaded with.

The exporter writes into the ONNX ``metadata_props``:

* ``knet.graph``: the graph kind (``video-knet-frame`` / ``video-knet-clip``);
* ``knet.model_type``: the config's model type;
* ``knet.network``: the model config restricted to what shapes the network
  (backbone, necks, heads; without initialisation, losses, assigners,
  test-time settings or post-processing), as JSON;
* ``knet.input_shape``: the example input [H, W] and ``knet.dynamic_shape``;
* ``knet.weights``: a digest of the exported weights (:func:`weights_digest`),
  so that a tool holding the PyTorch model can tell whether a file has its
  weights;
* ``knet.dataset_meta``: the checkpoint's dataset meta (class names, label
  ids), when it had one.

Post-processing settings (merge thresholds, tracker, VIS windows) are read
from the config at run time, so they may differ from the export's.
"""
import hashlib
import json
from typing import Any, Dict, Optional, Tuple

__all__ = [
    'network_config', 'first_difference', 'weights_digest', 'dumps',
    'META_PREFIX', 'ABSENT'
]

META_PREFIX = 'knet.'


class _Absent:
    """A key that one side of :func:`first_difference` lacks."""

    def __repr__(self) -> str:
        return 'absent'


ABSENT = _Absent()

#: model-level keys that shape the exported network
_NETWORK_KEYS = ('type', 'backbone', 'neck', 'rpn_head', 'roi_head',
                 'track_head', 'embed_channels', 'link_previous',
                 'num_thing_classes', 'num_stuff_classes')
#: keys dropped at any depth: initialisation, training and test settings
_DROPPED = ('init_cfg', 'train_cfg', 'test_cfg', 'assigner', 'pretrained')


def _plain(value: Any) -> Any:
    """ConfigDicts, tuples -> plain JSON-able dicts and lists, without the
    dropped keys."""
    if isinstance(value, dict):
        return {
            str(k): _plain(v)
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
            if k not in _DROPPED and not str(k).startswith('loss')
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def network_config(model_cfg: dict, kind: str) -> Dict[str, Any]:
    """The part of ``model_cfg`` that shapes the exported network of graph
    ``kind`` (for the clip graph the clip head, ``tracker``, is included;
    for the frame graph ``tracker`` is post-processing)."""
    keys = _NETWORK_KEYS + (('tracker', ) if kind == 'video-knet-clip'
                            else ())
    return {k: _plain(model_cfg[k]) for k in keys if k in model_cfg}


def first_difference(a: Any, b: Any, path: str = ''
                     ) -> Optional[Tuple[str, Any, Any]]:
    """The first ``(path, value in a, value in b)`` where two JSON-like
    values differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            sub = f'{path}.{k}' if path else k
            if k not in a or k not in b:
                return sub, a.get(k, ABSENT), b.get(k, ABSENT)
            diff = first_difference(a[k], b[k], sub)
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f'{path} (length)', len(a), len(b)
        for i, (x, y) in enumerate(zip(a, b)):
            diff = first_difference(x, y, f'{path}[{i}]')
            if diff:
                return diff
        return None
    return None if a == b else (path, a, b)


def dumps(value: Any) -> str:
    """Compact JSON as stored in the metadata."""
    return json.dumps(value, sort_keys=True, separators=(',', ':'))


def weights_digest(model) -> str:
    """SHA-256 of the model's parameters and buffers (names, shapes and
    float32 values, in ``state_dict`` order), hex."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu()
        digest.update(f'{name}:{list(t.shape)}:{t.dtype};'.encode())
        if t.is_floating_point():
            t = t.float()
        digest.update(t.contiguous().numpy().tobytes())
    return digest.hexdigest()
