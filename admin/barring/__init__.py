"""A line's call barring, for the tenant's admins; its user sees it."""
