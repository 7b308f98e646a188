"""dynamic stage of divulge."""
