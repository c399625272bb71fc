"""Reminders for stale mentions: the ladder and each department's policy, the sweep that finds what
is due, the messages each rung sends, and the fair rotation of who is named.
"""
