"""Department and city summaries: periods, the figures (counted in the database from the
mentions and the office times recorded on them), their text and chart, the weekly digest and
the export.
"""
