"""The tenant's announcements, hold music and ringback tones."""
