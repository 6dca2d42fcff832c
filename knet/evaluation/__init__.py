"""Evaluation: ``functional`` (pure-NumPy metric maths), ``offline``
(evaluation of prediction files, behind ``tools/eval_vps.py``), ``writers``
(official submission formats) and ``metrics`` (the MMEngine metrics,
registered into ``mmdet.registry.METRICS`` when ``knet.evaluation.metrics``
is imported, e.g. by a config's ``custom_imports``).

Nothing is imported here, so that ``functional``, ``offline`` and
``writers`` load without torch, mmengine or mmdet.
"""
