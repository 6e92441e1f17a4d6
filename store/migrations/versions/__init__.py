"""Migration scripts, oldest first; file names are date-prefixed."""
