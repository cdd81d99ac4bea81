"""The commented example config that `review-watch init` writes."""

from __future__ import annotations

from pathlib import Path

from review_watch.config import DEFAULT_CONFIG_NAME, ConfigError

EXAMPLE_CONFIG = """\
# Review Watch configuration. Every key is described in docs/config.md.

[database]
url = "sqlite:///review-watch.db"      # any SQLAlchemy URL, e.g. "postgresql://user@host/db"

[telegram]
# token = "123456:ABC..."              # or set REVIEW_WATCH_TELEGRAM_TOKEN
api_url = "https://api.telegram.org"   # the bot calls {api_url}/bot{token}/{method}
# invite_code = "let-me-in"            # /start let-me-in lets someone join as an agent
# webhook_url = "https://bot.example.com"  # set to receive updates by webhook instead of long polling
# webhook_secret = "a-long-random-string"
# reply_wait = 1800                    # seconds a pressed Reply button waits for the reply's text

[sentiment]
model = "builtin"                      # "builtin", a Hugging Face model id, or a local folder
threshold = 0.5                        # how sure the model must be before a text counts as negative
competitors = []                       # names flagged when a customer mentions them
# precision = "auto"                   # auto (bfloat16 where the CPU has it, else float32), float32, bfloat16, int8
# unsure_band = 0.1                    # this close to the threshold a lead decides (the "please look" list); 0: off
# weak_languages = []                  # ISO 639-1 codes where the model is weak: a wider band there

[[calendars]]
name = "stockholm"
timezone = "Europe/Stockholm"
hours = { mon = ["09:00-18:00"], tue = ["09:00-18:00"], wed = ["09:00-18:00"],
          thu = ["09:00-18:00"], fri = ["09:00-17:00"] }   # days left out are closed
holidays = "SE"                        # country code of the `holidays` package; optional
extra_closed = ["2026-12-31"]          # optional

[sla]
calendar = "stockholm"
response = "1 business day"            # "N business days|hours|minutes|seconds"
remind_at = 0.75                       # fraction of the SLA at which the assignee is reminded
waiting = "3 business days"            # new deadline when a case waits on a third party
# business_day_hours = 9               # default: the longest weekday of the calendar

[[sla.escalation]]                     # level 1: the brand's leads, at the deadline

[[sla.escalation]]                     # level 2: a named lead, one business day later
after = "1 business day"
leads = ["Lena"]

[[brands]]
name = "Acme"
aliases = ["Acme", "acme.com", "Акме"]
exclude = ["acme road"]

[[sources]]
name = "acme-trustpilot"
type = "trustpilot"                    # trustpilot | appstore | googleplay | reddit | hackernews |
                                       # mastodon | bluesky | rss | schemaorg
url = "https://www.trustpilot.com/review/acme.com"
brand = "Acme"                         # a review site's reviews are all about its brand

[[sources]]
name = "reddit-acme"
type = "reddit"
url = "https://www.reddit.com/search.json?q=acme&sort=new"
brand = "Acme"                         # a social or feed source with a brand keeps only the posts that name
                                       # that brand (its aliases); without `brand` it keeps the posts that
                                       # name any brand, and a post naming two brands is stored once for
                                       # each, so that each brand's team gets its own case

[[staff]]
name = "Anna"
telegram_id = 1001
role = "agent"                         # agent | lead
languages = ["en", "sv"]
calendar = "stockholm"                 # optional: when this person is on duty

[[staff]]
name = "Lena"
telegram_id = 1002
role = "lead"
languages = ["en"]

[crawl]
time_budget = 600                      # seconds one crawl may take
interval = 900                         # seconds between crawls in `review-watch run`
"""


def write_example_config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DEFAULT_CONFIG_NAME
    if path.exists():
        raise ConfigError(f"{path}: already exists; not overwriting it")
    path.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    return path
