"""Benchmarks (``make bench``). Figures are reported as ratios against a baseline measured in the
same run, because the machines are shared and absolute numbers drift."""
