"""A line's call log."""
