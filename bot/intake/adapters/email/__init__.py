"""The email adapter: ``adapter`` polls the mailbox (IMAP), ``reply`` answers (SMTP), ``parse``
reads the messages, ``security`` decides how both reach their server."""
