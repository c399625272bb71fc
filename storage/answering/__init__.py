"""Saved replies, their audit log and uses, and answers waiting for the comms team's approval."""
