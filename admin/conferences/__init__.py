"""The tenant's conference rooms in the panel (tenant admins)."""
