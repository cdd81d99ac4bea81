"""Entry points: the `review-watch` command, the crawl runner, the demo and `App`, the only code that wires the
adapters (spiders, sentiment, bot, storage) to the services."""
