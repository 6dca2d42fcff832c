"""knet.formats.cityscapes_labels against cityscapesscripts' own table."""
import numpy as np
import pytest

from knet.formats.cityscapes_labels import (CITYSCAPES_LABELS,
                                            label_ids_to_train_ids)


def test_table_matches_cityscapesscripts():
    labels = pytest.importorskip('cityscapesscripts.helpers.labels')
    theirs = {lab.id: lab for lab in labels.labels if lab.id >= 0}
    assert set(theirs) == set(CITYSCAPES_LABELS)
    for i, ours in CITYSCAPES_LABELS.items():
        lab = theirs[i]
        assert (ours.name, ours.train_id, ours.has_instances,
                ours.ignore_in_eval) == (lab.name, lab.trainId,
                                         lab.hasInstances, lab.ignoreInEval)


def test_conversions_by_hand():
    label_ids = np.array([[7, 26, 1, 29]], np.uint8)
    assert label_ids_to_train_ids(label_ids).tolist() == [[0, 13, 255, 255]]
