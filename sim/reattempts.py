"""Re-attempts: who sets out again after going home, and when.

A stage at the end of the pipeline: parties home after a stop in Mexico, a removal, a
transfer abroad or giving up on a waiting list set out again with the probability of that
state, after an exponential delay; they are filed under the day they leave, and the
departures stage takes them up on that day (`due`). Transferees retrying from the
receiving country are filed directly (their decision and delay are drawn there).
"""

from __future__ import annotations

import numpy as np

from sim.calendar import SimCalendar
from sim.daybuckets import day_buckets
from sim.domain import STATE_INDEX
from sim.rng import BlockStream, stream
from sim.scenario.schema import Scenario

S = STATE_INDEX


class Reattempts:
    def __init__(
        self, scenario: Scenario, cal: SimCalendar, replication: int, compiled: bool = False
    ) -> None:
        """`compiled`: file with the compiled day-buckets (the same rows)."""
        re = scenario.reattempts
        self.days = cal.days
        self.rule = {  # state -> (probability, mean delay in days)
            S["home_after_removal"]: (re.removed.probability, re.removed.mean_delay_days),
            S["home_after_stop"]: (
                re.stopped_in_mexico.probability,
                re.stopped_in_mexico.mean_delay_days,
            ),
            S["home_after_transfer"]: (
                re.home_from_abroad.probability,
                re.home_from_abroad.mean_delay_days,
            ),
            S["home_gave_up"]: (re.gave_up.probability, re.gave_up.mean_delay_days),
        }
        n_states = max(self.rule) + 1  # the rule by state, as arrays for `home_batch`
        self._p = np.zeros(n_states)
        self._delay = np.zeros(n_states)
        for state, (prob, delay) in self.rule.items():
            self._p[state], self._delay[state] = prob, delay
        self.g = stream(scenario.seed, "reattempts_daily", replication)
        self.rs = BlockStream(stream(scenario.seed, "reattempts", replication))
        # (nationality, group, size, state left, origin) by the day they set out
        self._filed = day_buckets(5, cal.days, compiled)

    def after(self, state: int, nat, grp, size, origin, t: np.ndarray, day: int) -> None:
        """A batch of parties reached `state` (home) on `day`, at times `t`."""
        p, delay = self.rule[state]
        if p <= 0.0 or not len(t):
            return
        g = self.g
        go = g.random(len(t)) < p
        n = int(np.count_nonzero(go))
        if not n:
            return
        when = t[go] + g.standard_exponential(n) * delay
        due = np.maximum(when.astype(np.int64), day + 1)
        ok = due < self.days
        sel = go.nonzero()[0][ok]
        self._filed.add(due[ok], nat[sel], grp[sel], size[sel], state, origin[sel])

    def home(self, nat: int, grp: int, size: int, state: int, t: float, today: int) -> None:
        """One party home in `state` at time `t` (on `today`)."""
        p, delay = self.rule[state]
        if p > 0.0 and self.rs.uniform() < p:
            self.file(nat, grp, size, state, nat, t + self.rs.exponential() * delay, today)

    def home_batch(self, nat, grp, size, state: np.ndarray, t: np.ndarray, today: int) -> None:
        """`home` for a batch of parties (integer columns, states and times), in order: the
        same draws from the same stream (a uniform for each party whose state may
        re-attempt, then an exponential for each that does), so the same numbers, except
        where both of the stream's blocks could run out within the batch (the order of the
        two refills would then depend on the interleaving): then party by party."""
        p = self._p[state]
        may = (p > 0.0).nonzero()[0]
        if not len(may):
            return
        u_left, e_left = self.rs.left()
        if len(may) > u_left and len(may) > e_left:
            for i in may.tolist():
                self.home(int(nat[i]), int(grp[i]), int(size[i]), int(state[i]), float(t[i]), today)
            return
        go = may[self.rs.uniforms(len(may)) < p[may]]
        if not len(go):
            return
        when = t[go] + self.rs.exponentials(len(go)) * self._delay[state[go]]
        due = np.maximum(when.astype(np.int64), today + 1)
        ok = due < self.days
        sel = go[ok]
        self._filed.add(due[ok], nat[sel], grp[sel], size[sel], state[sel], nat[sel])

    def file(self, nat: int, grp: int, size: int, state: int, origin: int, t, today: int):
        """A party sets out again at time `t` (from `origin`), never before tomorrow."""
        day = max(int(t), today + 1)
        if day < self.days:
            self._filed.add_one(day, (nat, grp, size, state, origin))

    def due(self, day: int) -> np.ndarray | None:
        """Rows (nationality, group, size, state left, origin) setting out on `day`."""
        return self._filed.pop(day)
