"""Department and city summaries: periods, figures from the event log, their text and chart, the
weekly digest and the export.
"""
