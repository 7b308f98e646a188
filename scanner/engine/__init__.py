"""engine stage of divulge."""
