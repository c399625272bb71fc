"""Reminders for stale mentions: the ladder and each department's policy, the sweep that finds what
is due, the messages each rung sends, the fair rotation of who is named, and what people do with a
reminder (snooze, the claimer's check-in, away and back).
"""
