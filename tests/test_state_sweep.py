"""bench/state_sweep.py's arithmetic and report, without a run (the run is `python -m bench state-sweep`)."""

from __future__ import annotations

import pytest

from bench import state_sweep


def test_sizes_parse_and_the_largest_state_is_under_the_cap():
    assert [state_sweep.parse_size(s) for s in ["0", "1k", "10k", "100k", "1m", "2048"]] == [
        0,
        1024,
        10240,
        102400,
        1048576,
        2048,
    ]
    from sandbox.policy import Limits

    call = state_sweep.state_call(state_sweep.parse_size("1m"))
    assert Limits().state_bytes - 64 * 1024 < state_sweep.state_json_bytes(call) < Limits().state_bytes


def test_the_fit_is_least_squares_with_r2():
    line = state_sweep.fit([(0, 6.0), (100, 7.5), (1000, 21.0)])
    assert line["intercept_ms"] == pytest.approx(6.0) and line["slope_us_per_kib"] == pytest.approx(15.0)
    assert line["r2"] == pytest.approx(1.0)
    assert state_sweep.fit([(1, 1.0)]) is None


def test_the_report_says_whether_the_target_is_met():
    rounds = {
        0: [{"calls": 10, "ok": 10, "server_cpu_ms": 6.0, "total_cpu_ms": 7.0}],
        102400: [{"calls": 10, "ok": 10, "server_cpu_ms": 7.5, "total_cpu_ms": 8.5}],
    }
    opened = {
        0: {
            "sent": 10,
            "completed": 10,
            "ok": 10,
            "verdicts": {"ok": 10},
            "ok_per_s": 200.0,
            "p50_ms": 1.0,
            "p99_ms": 2.0,
            "ok_p50_ms": 1.0,
            "ok_p99_ms": 2.0,
            "deadline_misses": 0,
            "cpu_ms_per_call": 7.0,
            "background_cores": 0.0,
        }
    }
    result = state_sweep.summarize(
        {"grpc": rounds},
        {"grpc": opened},
        [0, 102400],
        {0: 60, 102400: 98000},
        rounds=1,
        duration_s=1.0,
        concurrency=2,
        rate=200.0,
        open_s=1.0,
        baseline=None,
    )
    assert result["drivers"]["grpc"]["difference_100k_ms"] == pytest.approx(1.5)
    assert result["drivers"]["grpc"]["open_loop"][0]["ok_vs_capacity"] == 1.0  # the offered rate is the bound
    text = state_sweep.markdown(result, "python -m bench state-sweep", "abc1234")
    assert "**MET** (+1.50 ms)" in text and "| grpc | 0 | 200.0 |" in text
