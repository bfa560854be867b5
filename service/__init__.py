"""newstag HTTP service (Flask)."""
