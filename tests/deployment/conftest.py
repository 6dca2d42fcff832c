"""Session-wide ONNX exports shared by the deployment tests (an export takes
tens of seconds on 2 cores, so each model is exported once)."""
import contextlib
import importlib.util
import io
from pathlib import Path

import pytest

pytest.importorskip('mmdet')
pytest.importorskip('onnxruntime')
pytest.importorskip('onnxscript')

import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY_CFG = ROOT / 'tests' / 'data' / 'video_knet_kitti_tiny.py'
R50_CFG = ROOT / 'configs' / 'video_knet_kitti.py'
CONVERTER = ROOT / 'tools' / 'model_converters' / 'knet_to_mmdet3.py'
EXPORT_TOOL = ROOT / 'tools' / 'deployment' / 'export_onnx.py'

def load_script(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

@contextlib.contextmanager
def torch_threads(num: int):
    """Run the block with ``num`` torch threads (restored after)."""
    old = torch.get_num_threads()
    torch.set_num_threads(num)
    try:
        yield
    finally:
        torch.set_num_threads(old)

def parity_record():
    """The public parity case, or None when it is not available."""
    from tests.parity_cases import PARITY_DIR
    path = PARITY_DIR / 'tiny_kitti_public.pt'
    if not path.is_file():
        return None
    return torch.load(path, weights_only=True)

@pytest.fixture(scope='session')
def tiny_export(tmp_path_factory):
    """The tiny KITTI-STEP Video K-Net (the parity config) with the parity
    record's weights (seeded random weights without the record), exported
    through ``tools/deployment/export_onnx.py`` with a dynamic shape.

    Returns a dict: ``config``, ``checkpoint``, ``onnx``, ``stdout`` of the
    tool, ``record`` (None without the parity case).
    """

    from knet.apis import init_model
    out = tmp_path_factory.mktemp('tiny_onnx')
    rec = parity_record()
    if rec is not None:
        state, unmapped = load_script(CONVERTER).convert_state_dict(
            rec['state_dict'])
        assert unmapped == []
    else:
        torch.manual_seed(0)
        model = init_model(TINY_CFG)
        model.init_weights()
        state = model.state_dict()
    ckpt = out / 'tiny.pth'
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    onnx_file = out / 'tiny.onnx'
    buf = io.StringIO()
    with torch_threads(1), contextlib.redirect_stdout(buf):
        load_script(EXPORT_TOOL).main([
            str(TINY_CFG), str(ckpt), '--out', str(onnx_file), '--shape',
            '128', '256', '--dynamic-shape'
        ])
    return dict(config=TINY_CFG, checkpoint=ckpt, onnx=onnx_file,
                stdout=buf.getvalue(), record=rec)

@pytest.fixture(scope='session')
def r50_export(tmp_path_factory):
    """The R50 KITTI-STEP entry point with seeded random weights (the
    release's initialisation), exported at 192x640 (static shape).

    Returns a dict: ``model`` (PyTorch), ``onnx``, ``report``.
    """
    from knet.apis import init_model
    from knet.deployment import export_onnx
    out = tmp_path_factory.mktemp('r50_onnx')
    with torch_threads(1):
        torch.manual_seed(0)
        model = init_model(R50_CFG)
        model.init_weights()
        model.eval()
        onnx_file = out / 'r50.onnx'
        report = export_onnx(model, str(onnx_file), (192, 640),
                             model_cfg=model.cfg.model)
    return dict(model=model, onnx=onnx_file, report=report)
