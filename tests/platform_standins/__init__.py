"""aiohttp stand-ins for the platforms' reply APIs: they answer like the platform, reject what it rejects
(requests checked against the specs in ../shared/platform-apis/), count what they accepted and fail on demand.
`runner.StandInThread` serves one on 127.0.0.1 from a background thread."""
