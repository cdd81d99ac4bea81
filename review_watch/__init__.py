"""Review Watch: finds unhappy customers' posts about a brand and hands each to a person in Telegram."""
