"""`review-watch init`: a new user's first command writes a config that works and never overwrites theirs."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import review_watch


def test_init_writes_a_working_config_and_database_and_keeps_an_existing_config(tmp_path: Path) -> None:
    directory = tmp_path / "acme"
    done = review_watch("init", str(directory), config=None)
    config = directory / "review-watch.toml"
    assert done.stdout.startswith(f"wrote {config} and created the database sqlite:///")
    assert (directory / "review-watch.db").is_file()  # next to the config, whatever the working directory

    # Commands run on it as written: the example's calendar (Stockholm, Friday until 17:00) and SLA.
    friday_evening = review_watch("deadline", "--at", "2026-11-27T17:30:00+01:00", config=config)
    assert friday_evening.stdout.strip() == "2026-11-30T18:00:00+01:00"
    assert review_watch("export", config=config).stdout == ""

    config.write_text(config.read_text(encoding="utf-8") + "# my own edit\n", encoding="utf-8")
    again = review_watch("init", str(directory), config=None, check=False)
    assert again.returncode == 2
    assert again.stderr == f"review-watch: {config}: already exists; not overwriting it\n"
    assert config.read_text(encoding="utf-8").endswith("# my own edit\n")
