"""The event-socket listener: Centrex's live view of every FreeSWITCH node."""
