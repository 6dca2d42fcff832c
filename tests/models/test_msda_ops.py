"""Multi-scale deformable attention: the PyTorch path against an explicit
float64 bilinear-sampling reference (values and gradients), a hand-computed
case, and mmcv's compiled op against the PyTorch path wherever both run."""
import pytest
import torch

pytest.importorskip('mmcv')

from knet.models.layers.msda_ops import (  # noqa: E402
    compiled_msda_available, multi_scale_deformable_attention)

SHAPES = [(6, 8), (3, 4), (2, 2)]


def _reference(value, shapes, loc, attn):
    """Deformable attention from its definition, in float64.

    A location (x, y) in [0, 1] is the pixel coordinate (x * W - 0.5,
    y * H - 0.5) (pixel centres at +0.5); the sample is the bilinear mix of
    the four neighbouring pixels, pixels outside the map count as zero.
    """
    value, loc, attn = value.double(), loc.double(), attn.double()
    bs, _, heads, dims = value.shape
    num_queries = loc.shape[1]
    b_idx = torch.arange(bs).view(bs, 1, 1, 1)
    m_idx = torch.arange(heads).view(1, 1, heads, 1)
    out = value.new_zeros(bs, num_queries, heads, dims)
    start = 0
    for lvl, (h, w) in enumerate(shapes):
        v = value[:, start:start + h * w]
        start += h * w
        px = loc[:, :, :, lvl, :, 0] * w - 0.5  # [B, Q, M, P]
        py = loc[:, :, :, lvl, :, 1] * h - 0.5
        x0, y0 = px.detach().floor(), py.detach().floor()
        sampled = 0
        for dx in (0, 1):
            for dy in (0, 1):
                xi, yi = x0 + dx, y0 + dy
                wgt = (1 - (px - xi).abs()) * (1 - (py - yi).abs())
                inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
                idx = (yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1)).long()
                sampled = sampled + v[b_idx, idx, m_idx] * (
                    wgt * inside)[..., None]
        out = out + (sampled * attn[:, :, :, lvl, :, None]).sum(3)
    return out.reshape(bs, num_queries, heads * dims)


def _case(seed=0, bs=2, num_queries=5, heads=2, dims=3, points=3,
          dtype=torch.float32, device='cpu'):
    g = torch.Generator().manual_seed(seed)
    num_keys = sum(h * w for h, w in SHAPES)
    value = torch.randn(bs, num_keys, heads, dims, generator=g)
    # some locations outside [0, 1] exercise the zero padding
    loc = torch.rand(bs, num_queries, heads, len(SHAPES), points, 2,
                     generator=g) * 1.4 - 0.2
    attn = torch.rand(bs, num_queries, heads, len(SHAPES), points,
                      generator=g)
    attn = attn / attn.sum((-1, -2), keepdim=True)
    shapes = torch.tensor(SHAPES, dtype=torch.long)
    start = torch.cat([shapes.new_zeros(1), shapes.prod(1).cumsum(0)[:-1]])
    tensors = [t.to(device=device, dtype=dtype).requires_grad_()
               for t in (value, loc, attn)]
    return tensors, shapes.to(device), start.to(device)


def _upstream_grad(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=torch.float64)


def _run(impl, tensors, shapes, start, grad_seed=1):
    value, loc, attn = tensors
    out = multi_scale_deformable_attention(value, shapes, start, loc, attn,
                                           impl=impl)
    g = _upstream_grad(out.shape, grad_seed).to(out)
    grads = torch.autograd.grad((out * g).sum(), tensors)
    return out, grads


def _ref_run(tensors, shapes, start, grad_seed=1):
    leaves = [t.detach().double().cpu().requires_grad_() for t in tensors]
    out = _reference(leaves[0], [tuple(s) for s in shapes.tolist()],
                     leaves[1], leaves[2])
    g = _upstream_grad(out.shape, grad_seed)
    grads = torch.autograd.grad((out * g).sum(), leaves)
    return out, grads


def test_hand_computed_single_level():
    """2x2 map [[1, 2], [3, 4]]: the centre is the mean, a pixel centre is
    that pixel, half a pixel outside the left edge is half the edge pixel."""
    value = torch.tensor([1., 2., 3., 4.]).view(1, 4, 1, 1)
    shapes = torch.tensor([[2, 2]])
    start = torch.tensor([0])
    loc = torch.tensor([[0.5, 0.5], [0.25, 0.25], [0.75, 0.75],
                        [0.0, 0.25]]).view(1, 4, 1, 1, 1, 2)
    attn = torch.ones(1, 4, 1, 1, 1)
    out = multi_scale_deformable_attention(value, shapes, start, loc, attn,
                                           impl='pytorch')
    torch.testing.assert_close(out.flatten(),
                               torch.tensor([2.5, 1.0, 4.0, 0.5]))


@pytest.mark.parametrize('dtype,tol', [(torch.float32, 1e-5),
                                       (torch.float64, 1e-10)])
def test_pytorch_path_matches_reference(dtype, tol):
    tensors, shapes, start = _case(dtype=dtype)
    out, grads = _run('pytorch', tensors, shapes, start)
    ref, ref_grads = _ref_run(tensors, shapes, start)
    assert out.shape == (2, 5, 6)
    torch.testing.assert_close(out.double(), ref, atol=tol, rtol=tol)
    for name, a, b in zip(('value', 'sampling_locations',
                           'attention_weights'), grads, ref_grads):
        torch.testing.assert_close(a.double(), b, atol=tol * 10,
                                   rtol=tol * 10, msg=f'grad of {name}')


def test_auto_on_cpu_equals_pytorch_path():
    tensors, shapes, start = _case(seed=3)
    auto, auto_grads = _run('auto', tensors, shapes, start)
    ref, ref_grads = _run('pytorch', tensors, shapes, start)
    torch.testing.assert_close(auto, ref, atol=0, rtol=0)
    for a, b in zip(auto_grads, ref_grads):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_forced_mmcv_without_kernel_raises():
    if compiled_msda_available('cpu'):
        pytest.skip('this mmcv build has a CPU kernel')
    tensors, shapes, start = _case()
    with pytest.raises(RuntimeError):
        _run('mmcv', tensors, shapes, start)
    with pytest.raises(ValueError):
        _run('cuda', tensors, shapes, start)


@pytest.mark.skipif(
    not (torch.cuda.is_available() and compiled_msda_available('cuda')),
    reason='mmcv 2.1 has no CPU kernel for ms_deform_attn: the compiled '
    'op only runs on CUDA (no CUDA device / CUDA build of mmcv here)')
def test_mmcv_matches_pytorch_on_cuda():
    tensors, shapes, start = _case(device='cuda')
    out, grads = _run('mmcv', tensors, shapes, start)
    ref, ref_grads = _run('pytorch', tensors, shapes, start)
    auto, _ = _run('auto', tensors, shapes, start)
    torch.testing.assert_close(auto, out, atol=0, rtol=0)  # auto took mmcv
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)
    for a, b in zip(grads, ref_grads):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3)
