"""Deterrence feedback: departures respond to the perceived risk of a consequence.

Perceived risk for each nationality x group is the share of its recent outcomes (parties
processed at the border or stopped in Mexico) that met a consequence, learned `delay_days`
late and smoothed exponentially over `memory_days` (ratio of smoothed counts). Dated
announcements (the scenario's own, and the enforcement surge's: `Enforcement.announcements`)
add a decaying shift with no news delay: a declaration is heard at once. From `reference_date` on, departures are multiplied by

    m = clip(1 - effect * (risk - risk_ref) / (1 - risk_ref), 0, 1 + effect)

where risk_ref is the risk on the reference date; before it m = 1, and effect = 0 gives
m = 1 exactly, so departures are then independent of any consequence.

That level response is immediate and bounded. Networks add a slow, integrated one
(momentum): for the `momentum_nationalities`, once perceived risk has warmed up
(`delay_days + memory_days` after the first simulated day), the log of a momentum factor M
changes each day by

    d log M = momentum_rate / 30 x (threshold[group] - risk)

so while word is that the journey ends in release (risk below the group's threshold)
departures grow month after month, and a lasting rise in consequences (MPP, removals, stops
in Mexico) turns growth into decline. M stays within [1 / momentum_bound, momentum_bound];
the departure multiplier is m x M (M acts before the reference date too: it carries the
surge that led up to it). `momentum_rate = 0` gives M = 1 exactly.

The daily counts of outcomes and consequences are not kept here: they are the recorder's
flows (`processed` + `stopped_in_mexico`, and `consequences`), read once a day through
`observed`, so the border's hot path does not update numpy arrays one party at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sim.calendar import SimCalendar
from sim.domain import GROUP_INDEX, GROUPS, NAT_INDEX, NATIONALITIES
from sim.recorder import N_CELLS, Recorder
from sim.scenario.schema import Announcement, Deterrence


class PerceivedRisk:
    def __init__(
        self,
        cfg: Deterrence,
        cal: SimCalendar,
        observed: Callable[[int], tuple[np.ndarray, np.ndarray]],
        announcements: Sequence[Announcement] = (),
    ) -> None:
        """`observed(day)` gives that day's outcomes and consequences, persons per cell;
        `announcements` are added to the scenario's own (e.g. the enforcement surge's)."""
        self.cfg = cfg
        self.observed = observed
        self.effect = cfg.effect
        self.alpha = 1.0 / cfg.memory_days
        self.delay = cfg.delay_days
        # A run that starts after the reference date takes its reference once the perceived
        # risk has warmed up (delay + memory), never from the cold start's zero risk.
        self.ref_day = max(cal.day(cfg.reference_date), cfg.delay_days + int(cfg.memory_days))
        self._num = np.zeros(N_CELLS)
        self._den = np.zeros(N_CELLS)
        self.reference: np.ndarray | None = None
        self.risk = np.zeros(N_CELLS)
        self.multiplier = np.ones(N_CELLS)
        self.momentum_rate = cfg.momentum_rate / 30.0
        self.warm_day = cfg.delay_days + int(cfg.memory_days)
        thresholds = np.array([getattr(cfg.momentum_threshold, g) for g in GROUPS])
        self.threshold = np.tile(thresholds, len(NATIONALITIES))
        self.momentum_cells = np.zeros(N_CELLS, dtype=bool)
        for n in cfg.momentum_nationalities:
            self.momentum_cells[NAT_INDEX[n] * 3 : NAT_INDEX[n] * 3 + 3] = True
        self.log_bound = float(np.log(cfg.momentum_bound))
        self.log_momentum = np.zeros(N_CELLS)
        self.shift = np.zeros((cal.days, N_CELLS))
        days = np.arange(cal.days)
        for a in (*cfg.announcements, *announcements):
            d0 = cal.day(a.date)
            decay = np.where(days >= d0, np.exp(-(days - d0) / a.decay_days) * a.risk_shift, 0.0)
            for n in a.nationalities:
                for g in a.groups:
                    self.shift[:, NAT_INDEX[n] * 3 + GROUP_INDEX[g]] += decay

    def update(self, day: int) -> np.ndarray:
        """Perceived risk and multiplier at the start of `day`; returns the multiplier per cell."""
        src = day - 1 - self.delay
        if src >= 0:
            a = self.alpha
            outcomes, consequences = self.observed(src)
            self._num += a * (consequences - self._num)
            self._den += a * (outcomes - self._den)
        # num / den where den > 0, else 0 (divided only there: no warning to silence)
        base = np.divide(self._num, self._den, out=np.zeros(N_CELLS), where=self._den > 0)
        self.risk = np.clip(base + self.shift[day], 0.0, 1.0)
        momentum = self._momentum(day)
        if day < self.ref_day or self.effect == 0.0:
            self.multiplier = momentum
            return self.multiplier
        if self.reference is None:
            self.reference = self.risk.copy()
        denom = np.maximum(1.0 - self.reference, 0.05)
        m = 1.0 - self.effect * (self.risk - self.reference) / denom
        self.multiplier = np.clip(m, 0.0, 1.0 + self.effect) * momentum
        return self.multiplier

    def _momentum(self, day: int) -> np.ndarray:
        """The network momentum factor per cell after today's step (1 where inactive)."""
        if self.momentum_rate == 0.0:
            return np.ones(N_CELLS)
        if day >= self.warm_day:
            step = self.momentum_rate * (self.threshold - self.risk)
            self.log_momentum = np.clip(
                self.log_momentum + np.where(self.momentum_cells, step, 0.0),
                -self.log_bound,
                self.log_bound,
            )
        return np.exp(self.log_momentum)


def recorded_outcomes(rec: Recorder) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    """Deterrence's inputs read from the run's record: on a day, persons processed at the
    border or stopped in Mexico (the outcomes), and those meeting a consequence."""
    processed, stopped = rec.index("processed"), rec.index("stopped_in_mexico")
    consequences = rec.index("consequences")

    def observed(day: int) -> tuple[np.ndarray, np.ndarray]:
        return rec.cells(day, processed) + rec.cells(day, stopped), rec.cells(day, consequences)

    return observed
