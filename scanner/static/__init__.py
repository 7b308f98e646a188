"""static stage of divulge."""
