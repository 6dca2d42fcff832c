"""knet.formats.kitti_step: decode/encode and the packed codes of the
evaluator agree, for small and large instance ids and invalid classes."""
import numpy as np
import pytest

from knet.formats.kitti_step import (KITTI_STEP_SPLITS, decode_kitti_step,
                                     encode_kitti_step, kitti_step_planes,
                                     pack_kitti_step, unpack_kitti_step)


@pytest.mark.parametrize('max_inst', [255, 4000])
def test_pack_unpack_equals_decode(max_inst):
    rng = np.random.default_rng(max_inst)
    sem = rng.choice(np.array([0, 5, 11, 13, 18, 255], np.uint8), (30, 50))
    inst = rng.integers(0, max_inst + 1, (30, 50))
    rgb = encode_kitti_step(sem, inst)
    codes, scale = pack_kitti_step(rgb)
    assert (scale > 0) == (max_inst < 256)
    s, i = unpack_kitti_step(codes, scale)
    ds, di = decode_kitti_step(rgb)
    assert (s == ds).all() and (i == di).all()
    # planes give the same codes as the packed image
    planes = tuple(np.ascontiguousarray(rgb[..., c]) for c in range(3))
    codes2, scale2 = pack_kitti_step(planes)
    assert scale2 == scale and (codes2 == codes).all()
    assert all((a == b).all() for a, b in zip(kitti_step_planes(rgb),
                                              planes))


def test_invalid_class_survives_packing():
    rgb = encode_kitti_step(np.array([[40, 1]], np.uint8),
                            np.array([[300, 0]]))
    sem, _ = unpack_kitti_step(*pack_kitti_step(rgb))
    assert sem[0, 0] > 18 and sem[0, 0] != 255  # not a class, not void
    sem, _ = unpack_kitti_step(*pack_kitti_step(
        encode_kitti_step(np.array([[40]], np.uint8), np.array([[3]]))))
    assert sem[0, 0] == 40


def test_bad_shapes_and_splits():
    with pytest.raises(ValueError, match='HxWx3'):
        decode_kitti_step(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match='8-bit'):
        pack_kitti_step(np.zeros((4, 4, 3), np.int32))
    train, val = KITTI_STEP_SPLITS['train'], KITTI_STEP_SPLITS['val']
    assert sorted(train + val) == list(range(21)) and len(val) == 9
