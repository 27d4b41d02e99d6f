"""Call park settings of the tenant, for its admins."""
