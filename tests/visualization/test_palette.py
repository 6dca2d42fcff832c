"""Class and track-id colours: stable, distinct, in the right id space."""
import colorsys
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from knet.visualization.palette import (IGNORE_COLOR, build_class_palette,
                                        hsv_to_rgb, track_id_colors)

REPO = Path(__file__).resolve().parents[2]

KITTI_META = dict(
    classes=('person', 'car', 'road', 'sky'),
    thing_classes=('person', 'car'),
    stuff_classes=('road', 'sky'),
    label_ids=(11, 13, 0, 10),
    palette=[(220, 20, 60), (0, 0, 142), (128, 64, 128), (70, 130, 180)],
    ignore_index=255)


def test_hsv_to_rgb_matches_colorsys():
    rng = np.random.default_rng(0)
    hsv = rng.random((50, 3))
    ours = hsv_to_rgb(hsv[:, 0], hsv[:, 1], hsv[:, 2])
    ref = np.array([colorsys.hsv_to_rgb(*x) for x in hsv]) * 255
    assert np.abs(ours.astype(float) - ref).max() <= 0.5 + 1e-6


def test_track_colour_is_a_function_of_the_id_only():
    ids = np.array([7, 3, 7, 1000, 3])
    cols = track_id_colors(ids)
    assert cols.dtype == np.uint8 and cols.shape == (5, 3)
    assert (cols[0] == cols[2]).all() and (cols[1] == cols[4]).all()
    # same colour whether asked alone, in a map, or in another order
    assert (track_id_colors(np.array([7]))[0] == cols[0]).all()
    grid = track_id_colors(np.array([[3, 1000], [7, 7]]))
    assert (grid[0, 0] == cols[1]).all() and (grid[0, 1] == cols[3]).all()
    assert tuple(track_id_colors(np.array([0]))[0]) == (128, 128, 128)


def test_track_colours_identical_in_a_fresh_process():
    ids = [1, 2, 3, 42, 13001, 65535, 10**9]
    # load the module file alone: a fresh interpreter without mmdet imports
    path = REPO / 'knet' / 'visualization' / 'palette.py'
    code = ('import json, importlib.util, numpy as np;'
            f'spec = importlib.util.spec_from_file_location("p", r"{path}");'
            'm = importlib.util.module_from_spec(spec);'
            'spec.loader.exec_module(m);'
            f'print(json.dumps(m.track_id_colors(np.array({ids})).tolist()))')
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, check=True,
                         capture_output=True, text=True,
                         env={'PYTHONHASHSEED': '123', 'PATH': ''}).stdout
    assert json.loads(out) == track_id_colors(np.array(ids)).tolist()


def test_consecutive_track_ids_are_well_separated():
    cols = track_id_colors(np.arange(1, 21)).astype(float)
    d = np.linalg.norm(cols[:, None] - cols[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    # neighbours a tracker hands out one after another differ clearly
    assert np.diag(d, 1).min() > 80
    assert d.min() > 25  # no two of the first 20 ids look the same


def test_class_palette_in_label_and_dataset_space():
    lab = build_class_palette(KITTI_META, 'label')
    sem = np.array([[0, 1], [2, 255]])
    assert lab.lookup(sem).tolist() == [[[220, 20, 60], [0, 0, 142]],
                                        [[128, 64, 128], list(IGNORE_COLOR)]]
    assert lab.name(1) == 'car' and lab.is_thing(1) and not lab.is_thing(2)
    ds = build_class_palette(KITTI_META, 'dataset')
    # trainId 13 is car, 0 road, 10 sky; 5 is no class of this dataset
    out = ds.lookup(np.array([13, 0, 10, 255, 5, 300]))
    assert out.tolist() == [[0, 0, 142], [128, 64, 128], [70, 130, 180],
                            [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert ds.name(11) == 'person' and ds.name(10) == 'sky'
    assert ds.name(255) is None and ds.is_thing(13) and not ds.is_thing(0)


def test_class_palette_without_palette_is_deterministic():
    meta = dict(classes=('a', 'b', 'c'))
    p1 = build_class_palette(meta).colors
    p2 = build_class_palette(dict(meta)).colors
    assert (p1 == p2).all() and len(np.unique(p1[:3], axis=0)) == 3
