"""JSON API v1: the same service functions as the pages, for scripts and other systems."""
