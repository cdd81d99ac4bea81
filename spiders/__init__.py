"""The Scrapy project: one spider per source type, yielding normalised mention items."""
