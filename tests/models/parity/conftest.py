"""Fixtures of the image-model parity tests (public case of the original)."""
from pathlib import Path

import pytest
import torch

BLOB = Path('/work/shared/parity/tiny_kitti_public.pt')


@pytest.fixture(scope='session')
def parity_blob():
    """The recorded parity case, loaded once (skip when absent)."""
    if not BLOB.is_file():
        pytest.skip(f'parity case not found: {BLOB}')
    return torch.load(BLOB, weights_only=True)


@pytest.fixture(scope='session')
def tiny_knet(parity_blob):
    """Tiny image K-Net with the converted recorded weights (eval mode)."""
    pytest.importorskip('mmdet')
    from .tiny_knet import build_tiny_knet
    model = build_tiny_knet(parity_blob['state_dict'])
    model.eval()
    return model
