"""One package per source; each adapter implements ``bot.core.adapter`` and keeps what parses the
platform's payloads in its own ``parse`` module.
"""
