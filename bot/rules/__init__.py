"""The routing rules as the comms team manages them: the rulebook seeded from the config, changes
with their history, rule documents and forms, and suggestions learnt from hand-overs.
"""
