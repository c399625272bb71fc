"""What intake keeps: each source's cursor and health, folding and linking look-ups."""
