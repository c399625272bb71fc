"""Claims' own tables: the clicks acked before they are decided."""
