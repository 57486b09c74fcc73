"""Rolling-origin backtests: calibrate up to an origin, forecast the months after it with
the policies as they happened, and score against observed and the baselines."""
