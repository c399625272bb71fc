"""Who is on the comms team: the users the config names, and the members of its user group.

The comms team owns routing (rules, mutes) and sees triage and the city-wide figures. A
Slack user group lets the team change without a config change; its members are read through
the directory's few-minute cache, so a check costs no Slack call most of the time.
"""

from __future__ import annotations

from bot.config.file import CommsTeamConfig
from bot.core.slack_directory import SlackDirectory


class CommsTeam:
    def __init__(self, config: CommsTeamConfig, directory: SlackDirectory | None) -> None:
        self.config = config
        self.directory = directory

    def includes(self, user: str) -> bool:
        if not user:
            return False
        if user in self.config.users:
            return True
        group = self.config.usergroup
        return bool(group and self.directory and user in self.directory.usergroup_members(group))

    def members(self) -> list[str]:
        """Everyone on the team, configured users first (who gets the city-wide digest)."""
        group = self.config.usergroup
        extra = self.directory.usergroup_members(group) if group and self.directory else []
        return list(dict.fromkeys([*self.config.users, *extra]))
