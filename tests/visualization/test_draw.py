"""Panoptic overlays: colours per class / per track, borders, labels."""
import numpy as np
import pytest

from knet.visualization.draw import (colorize_panoptic, draw_panoptic,
                                     hstack_frames, instances_to_maps,
                                     label_positions, panoptic_segments,
                                     segment_boundaries)
from knet.visualization.palette import build_class_palette, track_id_colors

META = dict(
    classes=('car', 'road', 'sky'),
    thing_classes=('car', ),
    label_ids=(13, 0, 10),
    palette=[(0, 0, 142), (128, 64, 128), (70, 130, 180)])
PAL = build_class_palette(META, 'dataset')
ROAD, SKY = np.array([128, 64, 128]), np.array([70, 130, 180])


def scene(x0: int, h: int = 40, w: int = 80):
    """Sky above road; a car (track 5) whose box starts at column x0."""
    sem = np.full((h, w), 10, np.int64)
    sem[h // 2:] = 0
    track = np.zeros((h, w), np.int64)
    sem[15:30, x0:x0 + 20] = 13
    track[15:30, x0:x0 + 20] = 5
    sem[0:3, 0:3] = 255  # void corner
    return sem, track


def test_colorize_uses_class_and_track_colours():
    sem, track = scene(10)
    col = colorize_panoptic(sem, track, PAL)
    assert col.shape == (40, 80, 3) and col.dtype == np.uint8
    assert (col[5, 40] == SKY).all() and (col[35, 70] == ROAD).all()
    assert (col[20, 15] == track_id_colors(np.array([5]))[0]).all()
    assert (col[0, 0] == 0).all()


def test_overlay_blends_and_keeps_void_pixels():
    sem, track = scene(10)
    frame = np.full((40, 80, 3), 100, np.uint8)
    out = draw_panoptic(frame, sem, track, PAL, alpha=0.5, contours=False,
                        show_labels=False, show_ids=False)
    assert out.shape == frame.shape and out.dtype == np.uint8
    # 0.5 * 100 + 0.5 * colour, rounded half to even by np.round
    assert (out[35, 70] == np.round(50 + ROAD / 2)).all()
    assert (out[1, 1] == 100).all()  # void: the frame shows through
    assert (draw_panoptic(frame, sem, track, PAL, alpha=0.0, contours=False,
                          show_labels=False, show_ids=False) == 100).all()


def test_track_keeps_its_colour_when_it_moves():
    frame = np.zeros((40, 80, 3), np.uint8)
    kw = dict(alpha=1.0, contours=False, show_labels=False, show_ids=False)
    a = draw_panoptic(frame, *scene(5), PAL, **kw)
    b = draw_panoptic(frame, *scene(50), PAL, **kw)
    colour = track_id_colors(np.array([5]))[0]
    assert (a[20, 10] == colour).all() and (b[20, 60] == colour).all()
    # a second car with another id gets another colour
    sem, track = scene(5)
    sem[15:30, 50:70], track[15:30, 50:70] = 13, 6
    c = draw_panoptic(frame, sem, track, PAL, **kw)
    assert (c[20, 10] == colour).all() and not (c[20, 60] == colour).all()


def test_segment_boundaries_by_hand():
    seg = np.array([[0, 0, 1, 1],
                    [0, 0, 1, 1],
                    [2, 2, 2, 2]])
    expected = np.array([[0, 1, 1, 0],
                         [1, 1, 1, 1],
                         [1, 1, 1, 1]], bool)
    assert (segment_boundaries(seg) == expected).all()


def test_label_position_lies_inside_a_non_convex_segment():
    seg = np.zeros((30, 30), np.int64)
    seg[5:25, 5:10] = 1   # a U shape: its centroid is outside it
    seg[20:25, 5:25] = 1
    seg[5:25, 20:25] = 1
    seg[10:15, 12:18] = 2  # a rectangle: the label sits at its middle
    xy, area = label_positions(seg, 3)
    assert seg[xy[1, 1], xy[1, 0]] == 1
    assert area.tolist() == [900 - 5 * 20 * 2 - 5 * 10 - 30, 5 * 20 * 2 +
                             5 * 10, 30]
    assert 13 <= xy[2, 0] <= 16 and 11 <= xy[2, 1] <= 13


def test_panoptic_segments_split_things_by_track():
    sem = np.array([[13, 13, 0], [13, 13, 0]])
    track = np.array([[1, 2, 0], [1, 2, 0]])
    seg, s_sem, s_track = panoptic_segments(sem, track)
    assert len(s_sem) == 3 and seg[0, 0] != seg[0, 1]
    pairs = {(int(a), int(b)) for a, b in zip(s_sem, s_track)}
    assert pairs == {(0, 0), (13, 1), (13, 2)}


def test_labels_are_written_at_segment_centres():
    sem, track = scene(30, h=120, w=240)
    frame = np.zeros((120, 240, 3), np.uint8)
    kw = dict(alpha=1.0, contours=False)
    plain = draw_panoptic(frame, sem, track, PAL, show_labels=False,
                          show_ids=False, **kw)
    labelled = draw_panoptic(frame, sem, track, PAL, show_labels=True,
                             show_ids=True, **kw)
    diff = np.abs(plain.astype(int) - labelled.astype(int)).sum(-1) > 0
    ys, xs = np.nonzero(diff)
    assert diff.sum() > 50  # text was drawn ...
    # ... on the car (rows 15..30, cols 30..50), the sky and the road
    assert diff[10:35, 25:55].any() and diff[:60, 60:].any() \
        and diff[60:, 60:].any()


def test_instances_to_maps_higher_score_wins():
    masks = np.zeros((2, 4, 4), bool)
    masks[0, :, :3] = True
    masks[1, :, 2:] = True
    sem, track = instances_to_maps(masks, np.array([3, 4]), np.array([0, 7]),
                                   np.array([0.9, 0.5]))
    assert sem.tolist() == [[3, 3, 3, 4]] * 4
    assert track.tolist() == [[1, 1, 1, 8]] * 4
    sem, _ = instances_to_maps(masks, np.array([3, 4]), np.array([0, 7]),
                               np.array([0.1, 0.5]))
    assert sem[0, 2] == 4 and sem[0, 0] == 3


def test_hstack_frames_size():
    a = np.zeros((20, 30, 3), np.uint8)
    b = np.full((40, 60, 3), 255, np.uint8)  # resized to height 20
    out = hstack_frames([a, b], gap=4)
    assert out.shape == (20, 30 + 4 + 30, 3)
    titled = hstack_frames([a, a], ['gt', 'pred'])
    assert titled.shape[1] == 64 and titled.shape[0] > 20
    with pytest.raises(ValueError):
        hstack_frames([])
