"""Review Watch test suite."""
