"""Ratios, the printed table, bench/results/latest.json and the PNG chart."""

from __future__ import annotations

import json
from pathlib import Path

from benchlib.runner import DESCRIPTIONS, WORKLOADS

PEERS = ("oidc_provider", "authlib_flask", "dot")
LABELS = {"authgate": "authgate", "oidc_provider": "oidc-provider", "authlib_flask": "Authlib Flask",
          "dot": "django-oauth-toolkit", "hello": "bare ASGI"}


def rps(results: dict, server: str, workload: str) -> float | None:
    return results.get(server, {}).get(workload, {}).get("rps")


def cpu(results: dict, server: str, workload: str) -> float | None:
    return results.get(server, {}).get(workload, {}).get("cpu_ms_per_request")


def ratios(results: dict) -> dict:
    """Per workload: authgate against the fastest peer in requests/s, against the peer that spends
    the least server CPU per request (above 1: authgate is cheaper), and against the bare ASGI app."""
    out = {}
    ceiling = rps(results, "hello", "W1")
    for w in WORKLOADS:
        ours = rps(results, "authgate", w)
        peers = {p: rps(results, p, w) for p in PEERS if rps(results, p, w)}
        faster = max(peers, key=peers.get) if peers else None
        our_cpu = cpu(results, "authgate", w)
        costs = {p: cpu(results, p, w) for p in PEERS if cpu(results, p, w)}
        cheapest = min(costs, key=costs.get) if costs else None
        out[w] = {
            "faster_peer": faster,
            "vs_faster_peer": round(ours / peers[faster], 2) if ours and faster else None,
            "cheapest_peer": cheapest,
            "cpu_vs_cheapest_peer": round(costs[cheapest] / our_cpu, 2) if our_cpu and cheapest else None,
            "vs_bare_asgi": round(ours / ceiling, 3) if ours and ceiling else None,
        }
    return out


def _cell(results: dict, server: str, w: str) -> str:
    r = results.get(server, {}).get(w)
    if r is None:
        return "-"
    if "na" in r:
        return "n/a"
    spent = f"{r['cpu_ms_per_request']:.2f} ms" if r.get("cpu_ms_per_request") is not None else "-"
    return f"{r['rps']:.0f} / {spent} ({r['p50_ms']:.1f}/{r['p99_ms']:.1f}, {r['errors']})"


def table(results: dict, ratio: dict) -> str:
    """Markdown: req/s / server CPU ms per request (p50/p99 ms, errors) per server, and the ratios."""
    servers = [s for s in ("authgate", *PEERS, "hello") if s in results]
    head = ["workload", *(LABELS[s] for s in servers), "vs faster peer", "CPU vs cheapest peer", "vs bare ASGI"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in WORKLOADS:
        r = ratio[w]
        vs_peer = f"{r['vs_faster_peer']}x ({LABELS[r['faster_peer']]})" if r["vs_faster_peer"] else "-"
        vs_cheapest = (f"{r['cpu_vs_cheapest_peer']}x ({LABELS[r['cheapest_peer']]})"
                       if r["cpu_vs_cheapest_peer"] else "-")
        vs_ceiling = f"{r['vs_bare_asgi'] * 100:.0f}%" if r["vs_bare_asgi"] else "-"
        cells = [f"{w} {DESCRIPTIONS[w]}", *(_cell(results, s, w) for s in servers), vs_peer, vs_cheapest,
                 vs_ceiling]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")


def chart(path: Path, results: dict, meta: dict) -> None:
    """Grouped horizontal bars of req/s (log scale), one group per workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    servers = [s for s in ("authgate", *PEERS) if s in results]
    colours = {"authgate": "#2b6cb0", "oidc_provider": "#805ad5", "authlib_flask": "#dd6b20", "dot": "#2f855a"}
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=90)
    height = 0.8 / len(servers)
    for i, server in enumerate(servers):
        ys, xs = [], []
        for j, w in enumerate(WORKLOADS):
            value = rps(results, server, w)
            if value:
                ys.append(j + i * height)
                xs.append(value)
        ax.barh(ys, xs, height=height, label=LABELS[server], color=colours[server])
        for y, x in zip(ys, xs):
            ax.text(x * 1.05, y, f"{x:,.0f}", va="center", fontsize=7)
    ceiling = rps(results, "hello", "W1")
    if ceiling:
        ax.axvline(ceiling, color="#718096", linestyle="--", linewidth=1)
        ax.text(ceiling, -0.5, f"bare ASGI {ceiling:,.0f} ", fontsize=7, color="#4a5568", ha="right")
    ax.set_yticks([j + 0.4 - height / 2 for j in range(len(WORKLOADS))])
    ax.set_yticklabels([f"{w} {DESCRIPTIONS[w]}" for w in WORKLOADS], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("requests/s (log scale; higher is better)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    load = f"{meta['load_before'][0]:.1f}" + (f" to {meta['load_after'][0]:.1f}" if "load_after" in meta else "")
    ax.set_title(f"1 worker each, {meta['connections']} connections, {meta['duration_s']} s per workload; "
                 f"load average {load} ({meta['cores']} cores)", fontsize=9)
    ax.set_ylim(len(WORKLOADS) - 0.1, -0.75)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=len(servers), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def facts(results: dict, meta: dict) -> str:
    """Memory after the run, and how each server hashes passwords and client secrets (with the
    cost of one password check, timed in the benchmark's process)."""
    lines = []
    for server in ("authgate", *PEERS, "hello"):
        if server not in results:
            continue
        r = results[server]
        f = r.get("_facts", {})
        memory = r["_memory"]
        line = (f"{LABELS[server]}: worker RSS after the run {memory['rss_mb_after_run']} MB, "
                f"largest after any workload {memory.get('rss_mb_max')} MB")
        if f:
            cost = meta.get("password_check_ms", {}).get(server)
            line += (f"; passwords: {f.get('password_hash')}" + (f" ({cost} ms per check)" if cost else "")
                     + f"; client secrets: {f.get('client_secret_hash')}")
            if "node" in f:
                line += f"; Node.js {f['node']}"
        lines.append(line)
    return "\n".join(lines)


def growth_table(growth: dict) -> str:
    rows = ["| workload | " + " | ".join(f"{n:,} tokens" for n in growth["sizes"]) + " | change |",
            "|---|" + "---|" * (len(growth["sizes"]) + 1)]
    for w in ("W1", "W1b", "W2", "W3"):
        cells = []
        values = []
        for n in growth["sizes"]:
            r = growth["runs"][str(n)].get(w, {})
            values.append(r.get("rps"))
            cells.append("n/a" if "na" in r else _cell(growth["runs"], str(n), w) if r else "-")
        change = f"{(values[-1] / values[0] - 1) * 100:+.0f}%" if all(values) else "-"
        rows.append(f"| {w} {DESCRIPTIONS[w]} | " + " | ".join(cells) + f" | {change} |")
    return "\n".join(rows)
