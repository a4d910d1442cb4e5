"""Chat front ends. Each platform lives in its own subpackage and depends on `bot`, never the reverse."""
