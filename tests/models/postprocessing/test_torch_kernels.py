"""Probe the installed torch for the CPU kernel behaviours that
:mod:`knet.models.postprocessing.torch_kernels` names. Each test fails when
torch changes the behaviour (then revisit that module and the tiled merge):
the exact CPU merge relies on them to equal the full computation bit for
bit."""
import torch
import torch.nn.functional as F

from knet.models.postprocessing.torch_kernels import (GRAIN, SMALL_OUTPUT,
                                                      VECTOR_BLOCK,
                                                      sigmoid_exact)


def _up(x, size):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


class _Threads:

    def __init__(self, num):
        self.num, self.old = num, torch.get_num_threads()

    def __enter__(self):
        torch.set_num_threads(self.num)

    def __exit__(self, *exc):
        torch.set_num_threads(self.old)


def _crop_equals_whole(x, rows, out_sum):
    """Do the inner pixels of a x2 resize of an input crop equal the same
    pixels of the x2 resize of the whole input?"""
    cols = out_sum // 2 - rows
    whole = _up(x, (2 * x.shape[-2], 2 * x.shape[-1]))
    part = _up(x[..., :rows, :cols], (2 * rows, 2 * cols))
    inner = (slice(None), slice(None), slice(0, 2 * rows - 2),
             slice(0, 2 * cols - 2))
    return torch.equal(part[inner], whole[inner])


def test_small_output_kernel_switch():
    """Bilinear outputs with height + width <= SMALL_OUTPUT take another
    kernel (other rounding); larger ones agree crop by crop."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(8, 1, 40, 200, generator=gen)
    for threads in sorted({1, torch.get_num_threads()}):
        with _Threads(threads):
            for rows in (6, 10, 20):
                assert _crop_equals_whole(x, rows, SMALL_OUTPUT + 2)
                assert _crop_equals_whole(x, rows, SMALL_OUTPUT + 64)
                assert not _crop_equals_whole(x, rows, SMALL_OUTPUT)


def test_three_channel_kernel_switch_on_one_thread():
    """On one thread a 3-channel image is resized with the other kernel:
    its channels differ from the same maps resized one by one (hence masks
    are resized as [M, 1, h, w])."""
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(1, 3, 40, 200, generator=gen)
    for threads, equal in ((1, False), (2, True)):
        with _Threads(threads):
            each = torch.cat([_up(x[:, c:c + 1], (80, 400))
                              for c in range(3)], 1)
            assert torch.equal(_up(x, (80, 400)), each) == equal, threads


def _tail_value(gen):
    """A logit whose sigmoid differs between the scalar (tail) and the
    vectorised formula, and both sigmoid values."""
    v = torch.randn(4096, generator=gen) * 8
    vector = v.sigmoid()  # 4096 elements: full blocks only
    scalar = torch.stack([v[i:i + 1].sigmoid()[0] for i in range(4096)])
    differ = (scalar != vector).nonzero()[:, 0]
    assert differ.numel() > 0, 'scalar and vector sigmoid now agree'
    i = int(differ[0])
    return float(v[i]), vector[i], scalar[i]


def test_sigmoid_scalar_tail_and_vector_block():
    """Elements outside full blocks of two vectors get the scalar formula;
    VECTOR_BLOCK elements are full blocks."""
    gen = torch.Generator().manual_seed(2)
    v, vector, scalar = _tail_value(gen)
    with _Threads(1):
        block = torch.full((VECTOR_BLOCK, ), v).sigmoid()
        assert bool((block == vector).all())
        longer = torch.full((VECTOR_BLOCK + 1, ), v).sigmoid()
        assert longer[-1] == scalar and bool((longer[:-1] == vector).all())


def test_grain_splits_element_wise_ops_among_threads():
    """With 2 threads an op over at most GRAIN elements is one serial loop;
    over GRAIN + 2, each thread's chunk ends with a scalar tail."""
    gen = torch.Generator().manual_seed(3)
    v, vector, scalar = _tail_value(gen)
    with _Threads(2):
        serial = torch.full((GRAIN, ), v).sigmoid()
        assert bool((serial == vector).all())
        split = torch.full((GRAIN + 2, ), v).sigmoid()
        mid = (GRAIN + 2) // 2 - 1  # the last element of the first chunk
        assert split[mid] == scalar
        # sigmoid_exact: the vectorised value everywhere, any thread count
        assert bool((sigmoid_exact(torch.full((GRAIN + 2, ), v))
                     == vector).all())
