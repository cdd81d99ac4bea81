"""One spider per source type, each named after it: `scrapy list` lists them, `scrapy crawl TYPE -a source=NAME`."""
