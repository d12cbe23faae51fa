"""lemon24/reader's first update of the benchmark's feeds (run by the Python of reader's
own virtual environment: nothing of newsmirror is imported). Prints the entries stored."""

import sys

from reader import make_reader


def main() -> None:
    database, urls = sys.argv[1], sys.argv[2:]
    reader = make_reader(database)
    for url in urls:
        reader.add_feed(url)
    for result in reader.update_feeds_iter():
        if result.error is not None:
            raise SystemExit(f"{result.url}: {result.error}")
    print(reader.get_entry_counts().total)
    reader.close()


if __name__ == "__main__":
    main()
