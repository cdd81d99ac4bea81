"""Format helpers shared by the spiders: HTML to text, dates, encodings, feeds."""
