"""Chat front ends, one subpackage per platform.

Adapters depend on `bot`, never the reverse.
"""
