"""Conversation store size: one thread, the poem request turn after turn, through the real agent and
`run_turn` on the real store (agent/store.py), for SQLite and PostgreSQL.

LangGraph saves a checkpoint per step (~13 a turn here); keeping them all (its default, and this project's
before) grows the store quadratically, since the SQLite saver puts the whole history in each. The store
keeps only each thread's latest checkpoint after a turn. Both are measured; the PostgreSQL server is a
throwaway one (tests/postgres_server.py) with PostgreSQL's default durability settings.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks import harness

TURNS = 100
MARKS = (25, 100)
TARGET_MB = 5.0  # after 100 turns
PG_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations")


def sqlite_bytes(path: Path) -> int:
    """The database file and its write-ahead log."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.is_file())


async def postgres_bytes(store: Any) -> int:
    """Tables, indexes and TOAST of the saver's tables, on disk (rows deleted but not yet vacuumed too)."""
    return await _one(
        store,
        "SELECT sum(pg_total_relation_size(t::regclass)) AS size FROM unnest(%s::text[]) AS t",
        (list(PG_TABLES),),
    )


async def postgres_live_bytes(store: Any) -> int:
    """What the rows still there hold (as stored: compressed where PostgreSQL compressed them)."""
    return await _one(
        store,
        "SELECT (SELECT coalesce(sum(pg_column_size(checkpoint) + pg_column_size(metadata)), 0)"
        " FROM checkpoints) + (SELECT coalesce(sum(pg_column_size(blob)), 0) FROM checkpoint_blobs)"
        " + (SELECT coalesce(sum(pg_column_size(blob)), 0) FROM checkpoint_writes) AS size",
        (),
    )


async def _one(store: Any, query: str, params: tuple[Any, ...]) -> int:
    async with store.pool.connection() as conn:
        row = await (await conn.execute(query, params)).fetchone()
    return int(row["size"])


async def grow(stack: Any, store: Any, turns: int, size: Any) -> dict[str, Any]:
    """`turns` poem requests on one thread; the size after each mark, seconds a turn, checkpoints kept."""
    from hugginggpt.agent import build_agent
    from tests import scenarios

    agent = build_agent(stack.settings(), checkpointer=store.saver)
    sizes: dict[int, int] = {}
    started = time.perf_counter()
    for turn in range(1, turns + 1):
        summary, _ = await harness.run_prompt(agent, scenarios.POEM_PROMPT, "poems", store=store)
        if scenarios.POEM not in summary.answer:
            raise RuntimeError(f"turn {turn} went wrong: {summary.answer[:200]!r}")
        if turn in MARKS or turn == turns:
            sizes[turn] = await size()
    seconds = (time.perf_counter() - started) / turns
    live = vacuums = None
    if store.backend == "postgres":
        live = await postgres_live_bytes(store)
        vacuums = await _one(
            store, "SELECT coalesce(sum(autovacuum_count), 0) AS size FROM pg_stat_user_tables", ()
        )
    kept = [c async for c in store.saver.alist({"configurable": {"thread_id": "poems"}})]
    state = await agent.aget_state({"configurable": {"thread_id": "poems"}})
    humans = sum(m.type == "human" for m in state.values["messages"])
    if humans != turns:
        raise RuntimeError(f"the thread holds {humans} requests after {turns} turns")
    return {"sizes": sizes, "seconds": seconds, "checkpoints": len(kept), "live": live, "vacuums": vacuums}


async def bench(turns: int, backends: list[str]) -> dict[str, Any]:
    from hugginggpt.agent.store import open_postgres, open_sqlite

    out: dict[str, Any] = {"turns": turns}
    with harness.stack(tls_cost=False) as stack:
        from tests import scenarios

        scenarios.register_all(stack.llm)
        if "sqlite" in backends:
            for keep in (False, True):
                path = stack.workdir / f"conversations-{keep}.sqlite"

                async def size(path: Path = path) -> int:
                    return sqlite_bytes(path)

                async with await open_sqlite(path, 60, keep_history=keep) as store:
                    out[f"sqlite-{keep}"] = await grow(stack, store, turns, size)
        if "postgres" in backends:
            from tests import postgres_server

            with postgres_server.running(durable=True) as server:
                for keep in (False, True):
                    url = server.create_database(f"size_{str(keep).lower()}")
                    async with await open_postgres(url, 60, keep_history=keep) as store:
                        out[f"postgres-{keep}"] = await grow(
                            stack, store, turns, lambda s=store: postgres_bytes(s)
                        )
    return out


def _mb(sizes: dict[int, int]) -> str:
    return ", ".join(f"{sizes[m] / 1e6:.2f} MB" for m in sorted(sizes))


def summarise(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    turns = data["turns"]
    for backend, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        if f"{backend}-False" not in data:
            continue
        pruned, kept = data[f"{backend}-False"], data[f"{backend}-True"]
        marks = "/".join(str(m) for m in sorted(pruned["sizes"]))
        last = pruned["sizes"][max(pruned["sizes"])]
        note = f"{pruned['checkpoints']} checkpoint kept; {pruned['seconds'] * 1000:.0f} ms a turn"
        target: dict[str, Any] = {}
        if backend == "sqlite" and turns >= 100:  # issue 9's target, for the default store
            target = {"target": f"<= {TARGET_MB:g} MB", "ok": last / 1e6 <= TARGET_MB}
        if pruned["live"] is not None:
            note += (
                f"; rows kept {pruned['live'] / 1e6:.2f} MB, the rest is pruned rows until autovacuum "
                f"frees their space for reuse ({pruned['vacuums']} autovacuum runs during the run)"
            )
        rows.append(
            {
                "benchmark": "store size",
                "metric": f"{name}, one thread, after {marks} turns (latest checkpoint kept)",
                "value": _mb(pruned["sizes"]),
                **target,
                "note": note,
            }
        )
        rows.append(
            {
                "benchmark": "store size",
                "metric": f"{name}, every checkpoint kept (LangGraph's default; before)",
                "value": _mb(kept["sizes"]),
                "note": f"{kept['checkpoints']} checkpoints ({kept['checkpoints'] / turns:.0f} a turn); "
                f"{kept['seconds'] * 1000:.0f} ms a turn",
            }
        )
    return rows


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=TURNS)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    args = parser.parse_args(argv)
    harness.prepare_environment()
    from tests import postgres_server

    backends = args.backend or ["sqlite", "postgres"]
    missing = "postgres" in backends and postgres_server.binaries() is None
    rows = summarise(asyncio.run(bench(args.turns, [b for b in backends if b != "postgres" or not missing])))
    return rows + (
        [harness.skipped("store size", "PostgreSQL: no PostgreSQL binaries installed")] if missing else []
    )


if __name__ == "__main__":
    harness.emit(main())
