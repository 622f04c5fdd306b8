"""The store: its file format, its database and the seeded demo-store generator."""
