"""The tenant's schedules and holidays, shown to its admins."""
