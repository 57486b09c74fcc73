"""What each mechanism contributed to a change in apprehensions: exact Shapley values over
mechanisms switched off in common-random-number runs (`sim.attribution.run`)."""
