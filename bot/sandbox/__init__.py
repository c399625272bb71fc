"""Local stand-ins for Slack: ``fake_slack.FakeSlack`` for tests and the sandbox."""
