//! Pure planning: normalize, mask secrets, diff, decide actions, order stages.
