"""One spider per source type; see spiders.registry for the mapping."""
