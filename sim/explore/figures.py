"""The page's charts in the project's one chart style (`sim.chartstyle`), drawn with Plotly.

As in the PNG charts: Okabe-Ito colours (baseline the first, changed the second, as a
batch draws its reference and its next scenario), a band for the spread over
replications, policy dates as dashed lines numbered at the top and named in a grey footer
with the scenario, scale, replications and seed, thousands separators and units on
counts, x ranges limited to the data.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go

from sim import chartstyle as cs
from sim.explore.compare import Band, Outcome, band
from sim.scenario.schema import Scenario

BASE_COLOR, CHANGED_COLOR = cs.COLORS[0], cs.COLORS[1]
FONT = "DejaVu Sans, Arial, sans-serif"
FOOTER_WIDTH = 150  # characters a footer line may take before it wraps


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _band_traces(
    b: Band, name: str, color: str, reps: int, dash: str = "solid", shape: str = "linear"
) -> list[go.Scatter]:
    """The mean line and, over several replications, the min-max band behind it."""
    x = list(b.mean.index)
    out: list[go.Scatter] = []
    if reps > 1:
        out.append(
            go.Scatter(
                x=x + x[::-1],
                y=list(b.high) + list(b.low)[::-1],
                fill="toself",
                fillcolor=_rgba(color, 0.2),
                line={"width": 0, "shape": shape},
                hoverinfo="skip",
                name=f"{name}: min–max",
                legendgroup=name,
                showlegend=False,
            )
        )
    out.append(
        go.Scatter(
            x=x,
            y=list(b.mean),
            name=f"{name} (mean)",
            legendgroup=name,
            line={"color": color, "width": 2, "dash": dash, "shape": shape},
            hovertemplate="%{x|%d %b %Y}: %{y:,.0f}<extra>" + name + "</extra>",
        )
    )
    return out


def _layout(fig: go.Figure, title: str, ylabel: str, footer: str, x: pd.Index | None) -> None:
    lines = [w for line in footer.split("\n") for w in textwrap.wrap(line, FOOTER_WIDTH)]
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        font={"family": FONT, "size": 12},
        template="simple_white",
        height=330 + 14 * len(lines),
        margin={"l": 70, "r": 20, "t": 70, "b": 45 + 14 * len(lines)},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        hovermode="x unified",
    )
    fig.update_yaxes(
        title_text=ylabel, tickformat=",.0f", gridcolor="#dddddd", showgrid=True, rangemode="tozero"
    )
    if x is not None and len(x):
        pad = pd.Timedelta(days=3)
        fig.update_xaxes(range=[x.min() - pad, x.max() + pad])
    fig.add_annotation(  # the footer: provenance, notes, the policy dates' key
        text="<br>".join(lines),
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-35,
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        font={"size": 10, "color": cs.FOOTER_COLOR},
    )


def _markers(fig: go.Figure, s: Scenario, x: pd.Index | None) -> str:
    """Dashed lines at the policy dates in the chart's range, numbered; returns the key."""
    if x is None or not len(x):
        return ""
    marks = cs.in_range(cs.policy_markers(s), x.min(), x.max())
    for i, m in enumerate(marks, start=1):
        color = cs.AGREEMENT_COLOR if m.agreement else cs.POLICY_COLOR
        when = pd.Timestamp(m.date)
        fig.add_shape(
            type="line",
            x0=when,
            x1=when,
            y0=0,
            y1=1,
            yref="paper",
            line={"color": color, "width": 1, "dash": "dash"},
            opacity=0.8,
        )
        fig.add_annotation(
            x=when,
            y=1,
            yref="paper",
            text=str(i),
            showarrow=False,
            yanchor="top",
            font={"size": 9, "color": "white"},
            bgcolor=color,
            borderpad=2,
        )
    return "Policy dates: " + "; ".join(
        f"{i} {m.label}, {m.date:%d %b %Y}" for i, m in enumerate(marks, start=1)
    )


def _footer(s: Scenario, reps: int, *notes: str) -> str:
    prov = cs.Provenance(s.name, s.scale, reps, s.seed).line()
    spread = f"Bands: min–max over {reps} replications (a range, not an interval)."
    return "\n".join(n for n in (prov + " " + (spread if reps > 1 else ""), *notes) if n)


def _x(*bands: Band | None) -> pd.Index | None:
    idx = [b.mean.index for b in bands if b is not None and len(b.mean)]
    if not idx:
        return None
    out = idx[0]
    for i in idx[1:]:
        out = out.union(i)
    return pd.DatetimeIndex(out)


def timeline(
    title: str,
    ylabel: str,
    series: list[tuple[str, str, str]],
    base: list[Outcome],
    changed: list[Outcome],
    scenario: Scenario,
    note: str = "",
    shape: str = "linear",
) -> go.Figure:
    """Baseline and changed bands of `series` ((key, label, dash) each) over time."""
    reps = max(len(base), len(changed))
    fig = go.Figure()
    bands: list[Band | None] = []
    for key, label, dash in series:
        for who, outs, color in (
            ("baseline", base, BASE_COLOR),
            ("changed", changed, CHANGED_COLOR),
        ):
            b = band(outs, key)
            bands.append(b)
            if b is not None:
                name = f"{label}, {who}" if label else who.capitalize()
                fig.add_traces(_band_traces(b, name, color, reps, dash, shape))
    x = _x(*bands)
    key = _markers(fig, scenario, x)
    if x is None:
        fig.add_annotation(text="nothing to show", showarrow=False, xref="paper", yref="paper")
    _layout(fig, title, ylabel, _footer(scenario, reps, note, key), x)
    return fig


def encounters(base: list[Outcome], changed: list[Outcome], s: Scenario) -> go.Figure:
    return timeline(
        "Southwest-border encounters, per month",
        "Encounters (persons per month)",
        [("encounters", "", "solid")],
        base,
        changed,
        s,
        "Encounters = Border Patrol apprehensions + port-of-entry encounters; "
        "a month cut by the period's start or end is partial.",
    )


def custody(base: list[Outcome], changed: list[Outcome], s: Scenario) -> go.Figure:
    fig = timeline(
        "People in CBP custody at the border vs holding capacity, end of each day",
        "Persons in custody",
        [("in_custody", "In custody", "solid"), ("custody_over_72h", "held > 72 h", "dot")],
        base,
        changed,
        s,
        "72 hours: the TEDS standard for the longest stay in CBP custody.",
    )
    cap = s.border.holding_capacity
    fig.add_hline(
        y=cap,
        line={"color": "black", "width": 1.5, "dash": "dashdot"},
        annotation_text=f"Holding capacity ({cap:,})",
        annotation_position="top left",
    )
    return fig


def deterred(base: list[Outcome], changed: list[Outcome], s: Scenario) -> go.Figure:
    return timeline(
        "Deterred: persons who would have set out and did not, per month",
        "Deterred (persons per month)",
        [("deterred", "", "solid")],
        base,
        changed,
        s,
    )


def backlog(base: list[Outcome], changed: list[Outcome], s: Scenario) -> go.Figure:
    return timeline(
        "Receiving countries' asylum backlog (transferees' cases pending), end of each day",
        "Persons pending",
        [("asylum_backlog", "", "solid")],
        base,
        changed,
        s,
        "No line: no agreement in force, so no receiving country's queue is simulated.",
    )


def transfers(
    base: list[Outcome], changed: list[Outcome], baseline: Scenario, s: Scenario
) -> go.Figure:
    """Weekly transfers per agreement, each against its weekly cap (a step line)."""
    names = [a.name for a in baseline.agreements]
    names += [a.name for a in s.agreements if a.name not in names]
    series = [(f"transferred:{n}", n, "solid") for n in names]
    fig = timeline(
        "Weekly transfers under the agreements vs the weekly cap",
        "Persons per week",
        series,
        base,
        changed,
        s,
        "Weeks are counted from each agreement's start, as its cap is; the cap is the largest "
        "in force on a day of the week (a partial week at either end has a whole week's cap).",
        shape="hv",
    )
    for n in names:
        for who, outs, color in (("baseline", base, "#888888"), ("changed", changed, "black")):
            cap = band(outs, f"cap:{n}")
            if cap is not None:
                fig.add_scatter(
                    x=list(cap.mean.index),
                    y=list(cap.mean),
                    name=f"{n} weekly cap, {who}",
                    line={"color": color, "width": 1.6, "dash": "dash", "shape": "hv"},
                    hovertemplate="%{y:,.0f} a week<extra>cap</extra>",
                )
    return fig
