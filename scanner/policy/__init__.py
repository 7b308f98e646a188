"""policy stage of divulge."""
