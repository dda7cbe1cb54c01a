#!/usr/bin/env python3
"""Summarises one `nonaxis-run --json` answer for the demo: the refusal, or the
program's first output lines and what its signed execution record says."""
import json
import sys

d = json.load(sys.stdin)
refusal = d.get("refusal")
if refusal:
    print(f"  refused ({refusal['reason']}): {refusal['detail']}")
    sys.exit(0)
p = d["record"]["payload"]
layers = p["layers"]
print("  output: " + " | ".join(d["stdout"].splitlines()[:3]))
print(f"  record {p['execution_id'][:8]}, signed by the sandbox ({d['record']['signature']['kid']}), "
      f"exit {p['exit']['code']}, {p['duration_ms']:.1f} ms")
hosts = [h["host"] for h in p["egress"]["allowed_hosts"]]
print("  layers: " + ", ".join(layers["active"]) + f"; MAC {layers['mac']['kind']}; egress: nftables, "
      + (("allowed: " + ", ".join(hosts)) if hosts else "no host allowed"))
print(f"  child: {layers['egress']['net_namespace']}")
