"""Mixed precision on the parity case: bfloat16 autocast (CPU) keeps the
panoptic maps of the recorded clip (semantic and track-id maps identical on
at least 99.5 % of the pixels; the merge and tracking run in float32)."""
import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from knet.apis import inference_vps  # noqa: E402
from knet.engine.amp import amp_autocast, amp_dtype  # noqa: E402

from ._record import load_record  # noqa: E402
from .test_video_knet_parity import model  # noqa: E402,F401  (fixture)

MIN_AGREEMENT = 0.995


def _frames():
    rec = load_record()
    fi = rec['train_step']['forward_train_inputs']
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)

    def to_rgb(img):
        return torch.round(img * std + mean).clamp(0, 255).to(
            torch.uint8).permute(1, 2, 0).numpy()

    # the recorded clip, then the training step's reference and key frames
    return [f.numpy() for f in rec['frames']] + [
        to_rgb(fi['ref_img'][0, 0]), to_rgb(fi['img'][0])]


def test_bf16_autocast_keeps_panoptic_maps(model):  # noqa: F811
    assert amp_dtype('cpu') == torch.bfloat16
    frames = _frames()
    full = list(inference_vps(model, iter(frames)))
    dtypes = []
    handle = model.neck[0].register_forward_hook(
        lambda m, a, out: dtypes.append(out[0].dtype))
    try:
        with amp_autocast('cpu'):
            mixed = list(inference_vps(model, iter(frames)))
    finally:
        handle.remove()
    # the network really ran in bfloat16
    assert dtypes and set(dtypes) == {torch.bfloat16}
    sem = np.mean([np.mean(a.semantic == b.semantic)
                   for a, b in zip(full, mixed)])
    ids = np.mean([np.mean(a.track_ids == b.track_ids)
                   for a, b in zip(full, mixed)])
    print(f'bf16 autocast vs float32 on the parity clip ({len(frames)} '
          f'frames): semantic {100 * sem:.3f} %, track ids '
          f'{100 * ids:.3f} % of pixels identical')
    assert sem >= MIN_AGREEMENT and ids >= MIN_AGREEMENT
    # the recorded maps themselves still come out of the float32 run
    rec = load_record()
    for res, want in zip(full, rec['outputs']):
        assert np.array_equal(res.semantic, want['semantic_map'].numpy())
