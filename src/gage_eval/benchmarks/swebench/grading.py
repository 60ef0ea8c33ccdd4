"""SWE-bench grading: test-log parsing and the resolved decision, as the official harness decides.

`parse_pytest_log` reads pytest's `-rA` summary lines (`PASSED tests/x.py::test_a`, `FAILED … - reason`),
as swebench.harness.log_parsers.parse_log_pytest does. `grade` applies swebench.harness.grading's rules:
a FAIL_TO_PASS test counts as fixed when it passed or xfailed; a PASS_TO_PASS test is kept when it passed,
xfailed or was skipped (a skip is not a regression), and is broken when it failed, errored or is missing
from the log; resolved means every F2P fixed and every P2P kept (FULL), PARTIAL when some but not all F2P
are fixed and P2P are kept. tests/test_swebench.py checks both against the `swebench` package on the same
logs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_STATUSES = ("PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL")
_PASSING = ("PASSED", "XFAIL")


def parse_pytest_log(log: str) -> dict[str, str]:
    status_map: dict[str, str] = {}
    for line in log.split("\n"):
        if not line.startswith(_STATUSES):
            continue
        if line.startswith("FAILED"):
            line = line.replace(" - ", " ")
        parts = line.split()
        if len(parts) <= 1:
            continue
        if parts[0] == "SKIPPED" and parts[1].startswith("[") and parts[1].endswith("]") and parts[1][1:-1].isdigit():
            continue  # pytest's "SKIPPED [N] file:line: reason" summary: N is a count, not a test
        status_map[parts[1]] = parts[0]
    return status_map


def _key(case: str, status: dict[str, str]) -> str | None:
    if case in status:
        return case
    if case.count("[") > case.count("]"):  # ids truncated mid-parameter in the published data
        matches = [k for k in status if k.startswith(case)]
        if matches and len({status[k] in _PASSING for k in matches}) == 1:
            return matches[0]
    return None


def _passed(case: str, status: dict[str, str]) -> bool:
    key = _key(case, status)
    return key is not None and status[key] in _PASSING


def _kept(case: str, status: dict[str, str]) -> bool:
    key = _key(case, status)
    return _passed(case, status) or (key is not None and status[key] == "SKIPPED")


@dataclass
class Grade:
    f2p_success: list[str] = field(default_factory=list)
    f2p_failure: list[str] = field(default_factory=list)
    p2p_success: list[str] = field(default_factory=list)
    p2p_failure: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        f2p_total = len(self.f2p_success) + len(self.f2p_failure)
        p2p_total = len(self.p2p_success) + len(self.p2p_failure)
        f2p = 1.0 if f2p_total == 0 else len(self.f2p_success) / f2p_total
        p2p = 1.0 if p2p_total == 0 else len(self.p2p_success) / p2p_total
        if f2p == 1 and p2p == 1:
            return "RESOLVED_FULL"
        if 0 < f2p < 1 and p2p == 1:
            return "RESOLVED_PARTIAL"
        return "RESOLVED_NO"

    @property
    def resolved(self) -> bool:
        return self.status == "RESOLVED_FULL"

    def as_dict(self) -> dict[str, Any]:
        return {"FAIL_TO_PASS": {"success": self.f2p_success, "failure": self.f2p_failure},
                "PASS_TO_PASS": {"success": self.p2p_success, "failure": self.p2p_failure},
                "status": self.status, "resolved": self.resolved}


def grade(status: dict[str, str], fail_to_pass: list[str], pass_to_pass: list[str]) -> Grade:
    g = Grade()
    for case in fail_to_pass:
        (g.f2p_success if _passed(case, status) else g.f2p_failure).append(case)
    for case in pass_to_pass:
        (g.p2p_success if _kept(case, status) else g.p2p_failure).append(case)
    return g
