"""Sigmoid focal loss: PyTorch path vs a float64 reference, mmcv's compiled op
vs the PyTorch path (values and gradients) wherever the op runs."""
import pytest
import torch

pytest.importorskip('mmdet')

from knet.models.layers.focal_loss_ops import (  # noqa: E402
    compiled_focal_loss_available, py_sigmoid_focal_loss, sigmoid_focal_loss)


def _reference(pred, target, gamma=2.0, alpha=0.25):
    """Focal loss written from its definition, in float64."""
    x = pred.double()
    num_classes = x.shape[1]
    loss = torch.zeros_like(x)
    for i in range(x.shape[0]):
        for c in range(num_classes):
            p = torch.sigmoid(x[i, c])
            if int(target[i]) == c:
                loss[i, c] = -alpha * (1 - p)**gamma * torch.log(p)
            else:
                loss[i, c] = -(1 - alpha) * p**gamma * torch.log(1 - p)
    return loss


def _case(seed=0, n=12, c=5):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(n, c, generator=g) * 3
    target = torch.randint(0, c + 1, (n, ), generator=g)  # c = background
    return pred, target


def test_pytorch_path_matches_definition():
    pred, target = _case()
    ours = py_sigmoid_focal_loss(pred, target)
    torch.testing.assert_close(ours.double(), _reference(pred, target),
                               atol=1e-6, rtol=1e-5)


def test_reductions_and_weights():
    pred, target = _case(1)
    weight = torch.rand(pred.shape)
    elem = py_sigmoid_focal_loss(pred, target) * weight
    out = sigmoid_focal_loss(pred, target, weight, avg_factor=3.0,
                             impl='pytorch')
    torch.testing.assert_close(out, elem.sum() / 3.0)
    out = sigmoid_focal_loss(pred, target, weight, reduction='sum',
                             impl='pytorch')
    torch.testing.assert_close(out, elem.sum())


@pytest.mark.parametrize('device', ['cpu', 'cuda'])
def test_compiled_and_pytorch_paths_agree(device):
    if device == 'cuda' and not torch.cuda.is_available():
        pytest.skip('no CUDA device')
    if not compiled_focal_loss_available(torch.device(device)):
        pytest.skip(f'mmcv has no compiled sigmoid_focal_loss for {device}')
    pred, target = _case(2)
    pred = pred.to(device)
    target = target.to(device)
    p1 = pred.clone().requires_grad_(True)
    p2 = pred.clone().requires_grad_(True)
    l1 = sigmoid_focal_loss(p1, target, impl='mmcv', reduction='sum')
    l2 = sigmoid_focal_loss(p2, target, impl='pytorch', reduction='sum')
    l1.backward()
    l2.backward()
    torch.testing.assert_close(l1, l2, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(p1.grad, p2.grad, atol=1e-5, rtol=1e-5)


def test_auto_picks_a_working_path_on_cpu():
    pred, target = _case(3)
    pred.requires_grad_(True)
    loss = sigmoid_focal_loss(pred, target)
    loss.backward()
    ref = _reference(pred.detach(), target).mean()
    assert abs(loss.item() - ref.item()) < 1e-6
    assert torch.isfinite(pred.grad).all()


def test_pytorch_path_gradient():
    pred, target = _case(4, n=4, c=3)
    pred = pred.double().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda x: py_sigmoid_focal_loss(x, target).sum(), (pred, ))
