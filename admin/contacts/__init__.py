"""A line's personal contacts."""
