"""Turn bench/wamp/run.sh's result lines into a markdown table: per scenario
the median (min-max) for Skyhub and nexusd, the ratio of medians, p99
medians, router CPU and losses."""
import re
import sys
from statistics import median

res, reps, dur, churn, idle, skydrops, nexdrops, skyovf = sys.argv[1:9]
rows = {}
for line in open(res):
    f = line.split()
    if len(f) < 4:
        continue
    router, scen, val, unit = f[0], f[1], f[2], f[3]
    kv = dict(x.split("=", 1) for x in f[4:] if "=" in x)
    try:
        v = float(val)
    except ValueError:
        v = 0.0
    rows.setdefault(scen, {}).setdefault(router, []).append((v, unit, kv))


def dur_us(s):
    m = re.match(r"([\d.]+)(ns|µs|us|ms|s)$", s or "")
    if not m:
        return None
    x, u = float(m.group(1)), m.group(2)
    return x * {"ns": 1e-3, "µs": 1, "us": 1, "ms": 1e3, "s": 1e6}[u]


def fmt_us(x):
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f} s"
    return f"{x / 1000:.2f} ms" if x >= 1000 else f"{x:.0f} µs"


def cell(samples):
    vs = [s[0] for s in samples]
    return f"{median(vs):,.0f} ({min(vs):,.0f}–{max(vs):,.0f})"


print(f"| Scenario | unit | Skyhub median (min–max) | nexusd median (min–max) | ratio | p99 Skyhub | p99 nexusd | other (medians) |")
print("|---|---|---|---|---|---|---|---|")
for scen in sorted(rows):
    r = rows[scen]
    if "skyhub" not in r or "nexus" not in r:
        continue
    unit = r["skyhub"][0][1]
    ms, mn = median(s[0] for s in r["skyhub"]), median(s[0] for s in r["nexus"])
    ratio = f"{ms / mn:.2f}×" if mn else "-"
    p99 = {k: fmt_us(median([d for d in (dur_us(s[2].get("p99")) for s in r[k]) if d is not None] or [0]))
           for k in ("skyhub", "nexus")}
    other = []
    keys = ["lost", "kb_per_session", "threads"]
    if scen.startswith("S7"):
        keys.append("MB/s")
    if scen.startswith("S8"):
        keys.append("events/s")
    if scen.startswith("S9") or scen.startswith("S6"):
        keys.append("rss_kb")
    for key in keys:
        vals = {k: [float(s[2][key]) for s in r[k] if key in s[2]] for k in ("skyhub", "nexus")}
        if vals["skyhub"] and vals["nexus"]:
            if key == "lost":
                other.append(f"lost {int(sum(vals['skyhub']))} vs {int(sum(vals['nexus']))} (sum)")
            else:
                other.append(f"{key} {median(vals['skyhub']):,.1f} vs {median(vals['nexus']):,.1f}")
    if scen.startswith("S2") or scen.startswith("S7"):
        cpk = {}
        for k in ("skyhub", "nexus"):
            xs = []
            for v, _, kv in r[k]:
                calls = v * float(dur.rstrip("s"))
                if calls:
                    xs.append(float(kv.get("cpu_ticks", 0)) / 100 / calls * 1000)
            cpk[k] = median(xs) if xs else 0
        other.append(f"router CPU-s/1k calls {cpk['skyhub']:.3f} vs {cpk['nexus']:.3f}")
    print(f"| {scen} | {unit} | {cell(r['skyhub'])} | {cell(r['nexus'])} | {ratio} | {p99['skyhub']} | {p99['nexus']} | {'; '.join(other)} |")
print()
print(f"REPS={reps} DUR={dur} CHURN={churn} IDLE={idle}. Router log lines mentioning drops: "
      f"Skyhub {skydrops}, nexusd {nexdrops}. Skyhub slow-consumer disconnects "
      f"(skyhub_wamp_outbound_overflow_total): {skyovf}.")
