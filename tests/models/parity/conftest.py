"""Fixtures of the image-model parity tests (public case of the original)."""
import pytest

from tests.parity_cases import case_ids, load_case

@pytest.fixture(scope='session', params=case_ids())
def parity_blob(request):
    """A recorded parity case (every one found), loaded once."""
    return load_case(request.param)


@pytest.fixture(scope='session')
def tiny_knet(parity_blob):
    """Tiny image K-Net with the converted recorded weights (eval mode)."""
    pytest.importorskip('mmdet')
    from .tiny_knet import build_tiny_knet
    model = build_tiny_knet(parity_blob['state_dict'])
    model.eval()
    return model
