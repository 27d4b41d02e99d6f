"""The tenant's users, for its admins."""
