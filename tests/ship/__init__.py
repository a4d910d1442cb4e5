"""Tests of what ships: the Docker files, the lock and the quick start."""
