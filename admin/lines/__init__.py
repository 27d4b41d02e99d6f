"""A line's page: forwarding, do-not-disturb, call waiting, caller ID."""
