"""The Markdown report of bench/chat.sh: the chat-load JSON lines (argv[1]) side by side per
step, the highest step each side sustained, and the idle-connection memory. Run settings come
from the environment the script exports."""

import json
import os
import sys

env = os.environ
rooms, subscribers = int(env["ROOMS"]), int(env["SUBSCRIBERS"])
limit, idle = float(env["P99_LIMIT_MS"]), int(env["IDLE"])
# A sender further behind its schedule than this (p99) was held up, by the server or the machine.
LAG_NOTE_MS = 10

lines = [line for line in open(sys.argv[1]).read().splitlines() if line.strip()]
runs = [json.loads(line) for line in lines]
by = {(run["target"], run["rate"]): run for run in runs}
rates = sorted({run["rate"] for run in runs})
names = {"weatherwise": "WeatherWise", "weatherwise-2": "WeatherWise ×2", "rabbitmq": "RabbitMQ"}
targets = {target: name for target, name in names.items() if any(run["target"] == target for run in runs)}


def fmt(value):
    return "-" if value is None else f"{value:g}"


def sustained(run):
    return run["lost"] == 0 and run["p99_ms"] is not None and run["p99_ms"] <= limit


print(f"# Chat fan-out benchmark {env['STARTED']} on {env['CORES']} cores")
print()
print(f"- {rooms} rooms, each with {subscribers} subscriber connections and 1 sender connection. Each step "
      f"sends open-loop at the given rate per room for {env['DURATION']} s after {env['WARMUP']} s of "
      "warm-up; subscribers then have 3 s to receive the rest. Latency runs from the time a message was "
      "due to be sent to its arrival (one clock); lost = expected − received by then.")
print("- WeatherWise: `weatherwise serve`, embedded mode (SQLite), one instance; every message is stored "
      f"before it fans out. RabbitMQ {env['RABBIT_VERSION']} Web-STOMP on `/topic/` destinations "
      "(transient; one auto-delete queue per subscriber).")
if "weatherwise-2" in targets:
    print("- WeatherWise ×2: two instances of one scaled deployment (PostgreSQL, Redis, Kafka: tansu), each "
          "room's sender on one and its subscribers alternating between both, so half the deliveries "
          "cross the broker; the databases and broker share the same cores.")
print(f"- Server, broker and load tool share the machine's cores; load average before the steps: "
      f"{env['LOAD_BEFORE']} (other work on the machine skews every figure).")
print()
columns = ["delivered/s", "p50 ms", "p99 ms", "max ms", "lost", "dup"]
print("| msgs/s per room | offered deliveries/s | "
      + " | ".join(f"{name} {column}" if i == 0 else column
                   for name in targets.values() for i, column in enumerate(columns)) + " |")
print("|" + " ---: |" * (2 + len(targets) * len(columns)))
for rate in rates:
    cells = [fmt(rate), fmt(rate * rooms * subscribers)]
    for target in targets:
        run = by.get((target, rate), {})
        cells += [fmt(run.get(key)) for key in
                  ("delivered_per_sec", "p50_ms", "p99_ms", "max_ms", "lost", "duplicates")]
    print("| " + " | ".join(cells) + " |")
print()
best = {}
for target, name in targets.items():
    held = [run["rate"] for run in runs if run["target"] == target and sustained(run)]
    best[target] = max(held) if held else None
    said = f"{fmt(best[target])} msgs/s per room" if held else "none of the steps"
    missed = [run["rate"] for run in runs if run["target"] == target and held and run["rate"] < best[target]
              and not sustained(run)]
    if missed:
        said += f" (though not at {', '.join(map(fmt, missed))})"
    print(f"- {name} sustained (p99 ≤ {limit:g} ms, nothing lost): {said}")
for ours in ("weatherwise", "weatherwise-2"):
    if best.get(ours) and best.get("rabbitmq"):
        print(f"- {targets[ours]} / RabbitMQ sustained rate: {best[ours] / best['rabbitmq']:.2f}")
for run in runs:
    if run["send_lag_p99_ms"] > LAG_NOTE_MS or run["connection_errors"]:
        print(f"- {targets[run['target']]} at {fmt(run['rate'])}/s: senders' p99 lag behind schedule "
              f"{run['send_lag_p99_ms']} ms; {run['connection_errors']} connections ended with an error")
print()
print(f"## Memory per idle connection ({idle} connected and subscribed, spread over the rooms)")
print()
print(f"Resident set before and after opening {idle} connections, with {idle // 4} others opened and held "
      "first so that memory the allocators kept from earlier work does not hide the cost.")
if idle < int(env["IDLE_ASKED"]):
    print(f"RabbitMQ here takes at most {env['SOCKETS_LIMIT']} sockets (set from its file-descriptor limit at "
          f"boot; more wait unaccepted), so {idle} connections rather than {env['IDLE_ASKED']}.")
print()
print("| server | RSS before MiB | RSS after MiB | KiB per connection |")
print("| --- | ---: | ---: | ---: |")
for name, figures in (("WeatherWise (weatherwise)", env["IDLE_WW"]), ("RabbitMQ (beam.smp)", env["IDLE_RMQ"])):
    before, after = map(int, figures.split())
    print(f"| {name} | {before / 1024:.1f} | {after / 1024:.1f} | {(after - before) / idle:.1f} |")
print()
print("## Raw results (one chat-load JSON line per run)")
print()
print("```")
print("\n".join(lines))
print("```")
