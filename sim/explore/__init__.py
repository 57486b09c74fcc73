"""`migsim explore`: a local web page where a researcher moves levers and sees the border
respond, the changed scenario beside the baseline with the same seeds.

Built with Dash (imported only here and by `migsim explore`, an optional extra:
`pip install -e '.[explore]'`). Modules: `levers` (the controls, read from the schema),
`settings` (page values -> validated scenarios and the saved TOML), `runner` (background
jobs), `compare` (series, totals, paired differences), `figures` (Plotly charts in the
project's chart style), `view` (what a finished job shows), `app` (state and layout),
`callbacks` (what the page does).
"""

from __future__ import annotations
