"""Compact view of `nonaxis-operator --json` output for the demo: what a person needs."""
import json
import sys

d = json.load(sys.stdin)
rule = next((r["rule_id"] for r in d.get("policy_rules_applied", [])
             if r.get("matched") and r.get("result") != "no_match"), "-")
print(f"  request   {d['request_id']}")
print(f"  decision  {d['decision'].upper()}  (method {d.get('decision_method') or '-'}, rule {rule}, "
      f"CISO risk {d.get('risk_score')})")
print(f"  reasoning {d['reasoning']}")
for f in d.get("findings", []):
    print(f"  finding   {f.get('rule_id')} [{f.get('severity')}] line {f.get('line')}: {f.get('message')}")
t = d.get("token")
if t:
    print(f"  token     id {t['token_id']}, expires {t['expires_at']}, scope {json.dumps(t['scope'])}")
else:
    print("  token     none")
