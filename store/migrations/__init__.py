"""Alembic migrations of the store schema (a package so that it installs with ``store``)."""
