"""Adapter: one reply connector per platform, each implementing `review_watch.domain.replies.ReplyConnector`.

`replies.registry` maps a source type to the module that builds its connector from the source's
`[sources.reply]` settings; the services post through the port and never import this package.
"""
