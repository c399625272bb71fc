"""Settings and the YAML config: models, loading with errors that name the line, and what is
derived from it (the comms team, priority authors, service levels, adapters).
"""
