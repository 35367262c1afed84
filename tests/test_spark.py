"""The Spark engine: the refresh on Apache Spark (local mode) over a Parquet event lake builds the same database as
the DuckDB refresh; the translation rules keep DuckDB's meaning; lakes that cannot be read fail in one line.

Tolerance: counts, keys, text and dates are compared exactly; floating-point columns (sums of costs and active
minutes, ratios, standard deviations) to a relative 1e-9, since the two engines add the same numbers in another
order."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import lake, sparksql
from analytics.cli import build_demo
from analytics.warehouse import connect, sql_text

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-9


def _spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


if not _spark_available():
    if os.environ.get("GOODHART_REQUIRE_SPARK"):
        raise RuntimeError("GOODHART_REQUIRE_SPARK is set but PySpark or Java is missing")
    pytestmark = pytest.mark.skip(reason="PySpark and Java are needed (requirements-spark.txt, a JDK 17+)")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=ROOT, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """A small demo organisation, its events exported as a lake, refreshed from the lake by each engine through the
    real command (and by the ordinary refresh from the database's own events, for reference)."""
    folder = tmp_path_factory.mktemp("spark")
    source = folder / "source.duckdb"
    build_demo(source, users=120, days=35, seed=3, end=date(2026, 11, 20))
    exported = cli("export-lake", "--db", str(source), "--lake", str(folder / "lake"), "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["events"] > 40_000
    dbs = {name: folder / f"{name}.duckdb" for name in ("table", "duckdb", "spark")}
    for db in dbs.values():
        shutil.copy(source, db)
    runs = {
        "table": cli("refresh", "--db", str(dbs["table"]), "--whole", "--json"),
        "duckdb": cli("refresh", "--db", str(dbs["duckdb"]), "--lake", str(folder / "lake"), "--json"),
        "spark": cli(
            "refresh", "--db", str(dbs["spark"]), "--engine", "spark", "--lake", str(folder / "lake"), "--json"
        ),
    }
    for name, run in runs.items():
        assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
        out = json.loads(run.stdout)
        assert out["engine"] == ("spark" if name == "spark" else "duckdb")
        assert out["events"] == json.loads(exported.stdout)["events"] and out["seconds"] > 0
    return {**dbs, "lake": folder / "lake", "source": source}


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c "
        "JOIN duckdb_tables() t USING (database_name, schema_name, table_name) "
        "WHERE c.database_name = current_database() AND c.schema_name = 'main' AND NOT t.temporary "
        "AND c.table_name <> 'meta' ORDER BY c.table_name, c.column_index"
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


def _exact(kind: str) -> bool:
    return not kind.startswith(("DOUBLE", "FLOAT", "DECIMAL", "HUGEINT", "STRUCT", "MAP")) and "[]" not in kind


def _frame(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]]) -> pd.DataFrame:
    keys = [c for c, kind in columns if _exact(kind)]
    order = ", ".join(f'"{c}"' for c in keys) or "ALL"
    return con.sql(f"SELECT * FROM {table} ORDER BY {order}").df()


def assert_same_database(a: Path, b: Path) -> int:
    """Every table of the two databases has the same columns, types and rows; returns how many tables."""
    with duckdb.connect(a, read_only=True) as ca, duckdb.connect(b, read_only=True) as cb:
        left, right = _tables(ca), _tables(cb)
        assert left.keys() == right.keys()
        for table, columns in left.items():
            assert columns == right[table], table
            fa, fb = _frame(ca, table, columns), _frame(cb, table, columns)
            assert len(fa) == len(fb), table
            pd.testing.assert_frame_equal(fa, fb, check_exact=False, rtol=RTOL, atol=RTOL, obj=table)
    return len(left)


def test_spark_builds_the_same_marts_and_detection_as_duckdb(built):
    tables = assert_same_database(built["duckdb"], built["spark"])
    assert tables > 40  # every mart, summary and detection table the app reads
    with duckdb.connect(built["spark"], read_only=True) as con:
        # the comparison is not of empty tables: events, suspects, partners and lockstep minutes are all there
        assert con.execute("SELECT count(*) FROM mart_person_day_tool").fetchone()[0] > 1000
        assert con.execute("SELECT count(*) FROM det_person WHERE flagged").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM det_partners").fetchone()[0] > 0
        assert con.execute("SELECT sum(lockstep_minutes) FROM det_event_week").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM det_evidence_day WHERE gaps IS NULL").fetchone()[0] > 0
        counted = con.execute("SELECT sum(rows_loaded) FROM mart_source_rows WHERE source = 'usage_events'")
        counted = counted.fetchone()[0]
        assert counted == int(con.execute("SELECT value FROM meta WHERE key = 'lake_events'").fetchone()[0])


def test_a_lake_refresh_equals_the_refresh_of_loaded_events(built):
    assert_same_database(built["table"], built["duckdb"])


def test_spark_submit_runs_the_same_refresh(built, tmp_path):
    """The cluster way (README): spark-submit runs analytics/spark_submit.py, Spark configured by spark-submit
    (here local mode on two cores), and builds the same database."""
    import pyspark

    home = Path(pyspark.__file__).parent
    db = tmp_path / "submitted.duckdb"
    shutil.copy(built["source"], db)
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable}
    args = ["refresh", "--engine", "spark", "--lake", str(built["lake"]), "--db", str(db), "--json"]
    submitted = subprocess.run(
        [str(home / "bin" / "spark-submit"), "--master", "local[2]", "analytics/spark_submit.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr[-2000:]
    assert json.loads(submitted.stdout.strip().splitlines()[-1])["engine"] == "spark"
    assert_same_database(built["spark"], db)


def test_status_counts_the_lake_events_and_the_next_plain_refresh_is_whole(built, tmp_path):
    db = tmp_path / "again.duckdb"
    shutil.copy(built["spark"], db)
    with duckdb.connect(built["source"], read_only=True) as con:
        events = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
    with connect(db, create=False) as con:
        con.execute("DELETE FROM usage_events")  # the events live in the lake only
    status = json.loads(cli("status", "--db", str(db), "--json").stdout)
    assert status["events"] == events
    out = json.loads(cli("refresh", "--db", str(db), "--json").stdout)
    assert out["recomputed"].startswith("whole") and out["events"] == 0


# --- the translation rules: DuckDB's meaning, checked on both engines -------------------------------------------


def _duckdb(text: str) -> list[tuple]:
    """A statement's rows on a connection of its own (not the module's default one other tests share)."""
    with duckdb.connect() as con:
        return con.execute(text).fetchall()


@pytest.fixture(scope="module")
def spark():
    from analytics import spark_engine

    return spark_engine.session()


SAMPLES = """
SELECT * FROM (VALUES
    (TIMESTAMP '2026-03-08 06:59:59.999999', 'America/New_York', 'c4b1f3a2d5e60718'),
    (TIMESTAMP '2026-03-08 07:00:00', 'America/New_York', '0000000000000001'),
    (TIMESTAMP '2026-03-29 00:59:00.5', 'Europe/Madrid', 'ffffffffffffffff'),
    (TIMESTAMP '2026-10-25 01:00:00', 'Europe/Madrid', '8000000000000000'),
    (TIMESTAMP '2026-04-04 15:29:59.25', 'Australia/Lord_Howe', '7fffffffffffffff'),
    (TIMESTAMP '2026-11-22 23:59:30', 'Asia/Kathmandu', '00000000ffff0000')
) t(ts, tz, hex)
"""
# Each rule's DuckDB form over the samples; Spark runs the translation of the same text.
EXPRESSIONS = {
    "local": "CAST(timezone(tz, timezone('UTC', ts)) AS VARCHAR)",
    "isodow": "isodow(timezone(tz, timezone('UTC', ts)))",
    "epoch": "epoch(ts)",
    "minute": "epoch_us(ts) // 60000000",
    "quarter": "CAST(time_bucket(INTERVAL 15 MINUTE, ts) AS VARCHAR)",
    "bits": "bit_count(xor(CAST('0x' || hex AS UBIGINT), CAST('0x' || 'c4b1f3a2d5e60719' AS UBIGINT)))",
    "block2": "(CAST('0x' || hex AS UBIGINT) >> 32) & 65535",
    "masked": "xor(CAST('0x' || hex AS UBIGINT), 1) & 65535",
    "log10": "floor(log10(1000 * (1 + epoch(ts) - epoch(ts))) * 4) / 4",
}


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_a_rule_gives_what_duckdb_gives(spark, name):
    text = f"SELECT {EXPRESSIONS[name]} AS v FROM ({SAMPLES}) s ORDER BY ts"
    expected = [row[0] for row in _duckdb(text)]
    (stmt,) = sparksql.translate(text, {}, sparksql.Macros())
    got = [row[0] for row in spark.sql(stmt.sql).collect()]
    if name in ("local", "quarter"):  # Spark prints timestamps without trailing zero microseconds
        got = [str(pd.Timestamp(v)) for v in got]
        expected = [str(pd.Timestamp(v)) for v in expected]
    assert got == expected


def test_a_series_in_from_gives_what_duckdb_gives(spark):
    text = (
        "SELECT x, b, (x >> (16 * b)) & 65535 AS block "
        "FROM (VALUES (4294967297), (65536)) v(x), range(4) t(b) ORDER BY x, b"
    )
    (stmt,) = sparksql.translate(text, {}, sparksql.Macros())
    assert [tuple(r) for r in spark.sql(stmt.sql).collect()] == _duckdb(text)


def test_macros_are_inlined_with_their_own_names():
    macros = sparksql.Macros("local_clock", "stg_usage", "stg_outcomes")
    (stmt,) = sparksql.translate(
        sql_text("mart_person_day_tool"), {"lo": date(2026, 1, 5), "hi": date(2026, 1, 11)}, macros
    )
    assert "stg_usage__typed" in stmt.sql and "stg_outcomes__typed" in stmt.sql  # the two `typed` CTEs kept apart
    assert "$" not in stmt.sql and "stg_usage(" not in stmt.sql.lower()


def test_delete_becomes_the_rows_kept_and_parameters_must_be_given():
    statements = sparksql.translate("DELETE FROM t WHERE x > $limit", {"limit": 3}, sparksql.Macros())
    assert [(s.kind, s.name) for s in statements] == [("delete", "t")]
    assert "NOT COALESCE(x > 3, FALSE)" in statements[0].sql  # rows where the condition is NULL stay, as in DuckDB
    with pytest.raises(KeyError, match=r"\$limit"):
        sparksql.translate("SELECT * FROM t WHERE x > $limit", {}, sparksql.Macros())


def test_forms_without_a_rule_are_refused_not_guessed():
    with pytest.raises(ValueError, match="15-minute"):
        sparksql.translate("SELECT time_bucket(INTERVAL 1 HOUR, ts) FROM t", {}, sparksql.Macros())
    with pytest.raises(ValueError, match="timezone"):
        sparksql.translate("SELECT timezone('Europe/Madrid', ts) FROM t", {}, sparksql.Macros())


def test_every_file_spark_runs_translates():
    macros = sparksql.Macros("local_clock", "stg_usage", "stg_outcomes")
    params = {
        "lo": date(2026, 1, 5), "hi": date(2026, 3, 2), "since": date(2026, 1, 5), "until": date(2026, 3, 8),
        "cadence_tolerance": 0.1, "near_bits": 3, "min_shared_prompts": 3, "stock_prompt_people": 5,
    }  # fmt: skip
    for name in ("int_usage_day_model", "mart_person_day_tool", "detect_events", "detect_evidence", "lake_event_rows"):
        assert sparksql.translate(sql_text(name), params, macros), name


# --- lakes that cannot be read, and the commands' errors ----------------------------------------------------------


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert text in errors[0]


def test_lake_errors_are_one_line_and_change_nothing(built, tmp_path):
    db = tmp_path / "kept.duckdb"
    shutil.copy(built["spark"], db)
    with duckdb.connect(db, read_only=True) as con:
        before = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]
    assert_one_line_error(cli("refresh", "--db", str(db), "--engine", "spark"), 2, "give --lake DIR")
    assert_one_line_error(cli("refresh", "--db", str(db), "--lake", str(tmp_path / "none")), 1, "no event lake")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(cli("refresh", "--db", str(db), "--lake", str(tmp_path / "empty")), 1, "holds no")
    partial = tmp_path / "partial" / "day=2026-11-01"
    partial.mkdir(parents=True)
    _duckdb(f"COPY (SELECT 'e1' AS event_id, TIMESTAMP '2026-11-01 10:00' AS ts) TO '{partial / 'a.parquet'}'")
    for engine in ("duckdb", "spark"):
        result = cli("refresh", "--db", str(db), "--engine", engine, "--lake", str(tmp_path / "partial"))
        assert_one_line_error(result, 1, "lacks usage_events columns: user_id, tool")
    assert_one_line_error(cli("refresh", "--db", str(db), "--lake", "s3a://bucket/lake"), 1, "use --engine spark")
    assert_one_line_error(cli("export-lake", "--db", str(db), "--lake", str(built["lake"])), 1, "is not empty")
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0] == before


def test_the_lake_is_partitioned_by_utc_day(built):
    days = sorted(p.name for p in built["lake"].iterdir())
    assert days and all(d.startswith("day=") for d in days)
    with duckdb.connect(built["source"], read_only=True) as con:
        expected = con.execute("SELECT count(DISTINCT CAST(ts AS DATE)) FROM usage_events").fetchone()[0]
        held = con.execute(
            f"SELECT count(*) FROM read_parquet({lake.files(built['lake'])}, hive_partitioning = true) "
            "WHERE CAST(ts AS DATE) <> day"
        ).fetchone()[0]
    assert len(days) == expected and held == 0


def test_a_missing_spark_package_is_one_clear_error(built, tmp_path, monkeypatch):
    import analytics
    from analytics import marts
    from analytics.warehouse import WarehouseError

    for name in ("analytics.spark_engine", "analytics.sparksql"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        monkeypatch.delattr(analytics, name.split(".")[1], raising=False)
    monkeypatch.setitem(sys.modules, "sqlglot", None)  # as if not installed
    db = tmp_path / "plain.duckdb"
    shutil.copy(built["source"], db)
    with connect(db, create=False) as con, pytest.raises(WarehouseError, match="needs sqlglot: pip install -r"):
        marts.refresh(con, engine="spark", lake_dir=built["lake"])
