"""Takes the README's screenshots from the real app in Chromium.

python -m tests.screenshot --db data/usage.duckdb --out .docs/overview.png
python -m tests.screenshot --db data/usage.duckdb --page "Suspected inflation" --out .docs/suspects.png
python -m tests.screenshot --db data/usage.duckdb --page "Demand & scenarios" --ready '[data-testid="stForm"]' \
    --out .docs/demand.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.browser import chromium_page, open_app, open_page, streamlit_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="an existing Goodhart database")
    parser.add_argument("--out", type=Path, default=Path(".docs/overview.png"))
    parser.add_argument("--page", default=None, help="the navigation entry to open (default: the Overview)")
    parser.add_argument(
        "--ready", default=None, help="a CSS selector drawn near the page's end, to wait for before the shot"
    )
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with streamlit_server(args.db.resolve()) as url, chromium_page(width=1440, height=1500) as page:
        open_app(page, url)
        if args.page:
            open_page(page, args.page, ready=args.ready)
        page.wait_for_timeout(1500)  # let Plotly finish its transitions
        page.screenshot(path=str(args.out), full_page=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
