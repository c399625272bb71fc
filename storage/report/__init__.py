"""What the public report counts beyond the summaries' figures (which it reads through
``bot.summaries``): how many of a period's mentions have been answered so far."""
