"""Model-level utilities: release checkpoints and checked loading."""
from .checkpoint_loading import (CheckpointMismatch, KeyReport,
                                 compare_state_dict, load_model_checkpoint,
                                 load_state_dict_checked, read_checkpoint,
                                 to_model_layout)
from .release_checkpoint import (KEY_RULES, convert_key, convert_state_dict,
                                 is_release_layout, swin_merge_permutation)

__all__ = [
    'CheckpointMismatch', 'KeyReport', 'compare_state_dict',
    'load_model_checkpoint', 'load_state_dict_checked', 'read_checkpoint',
    'to_model_layout', 'KEY_RULES', 'convert_key', 'convert_state_dict',
    'is_release_layout', 'swin_merge_permutation'
]
