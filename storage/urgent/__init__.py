"""Urgent mentions: their paging state, the pages sent (one per mention and stage), swaps."""
