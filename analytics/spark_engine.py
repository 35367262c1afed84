"""The refresh's event-scale steps on Apache Spark, over a Parquet event lake (analytics/lake.py).

What grows with the events runs on Spark, from the same SQL files the DuckDB refresh runs (translated by
analytics/sparksql.py): staging (stg_usage, stg_outcomes, local_clock), the two marts read from events
(int_usage_day_model, mart_person_day_tool), and detection's reading of the events (detect_events.sql,
detect_evidence.sql). Their results, a few rows per person and day, come back through Arrow into the DuckDB
database, where the rest of the refresh runs as always: marts by person and week, detection's scoring against
peers (per person and week: it grows with headcount, not events), the marts after detection and the summaries.
So the database the app reads is built by the same code either way, and the app is unchanged.

Under spark-submit the session is the one spark-submit configured (its master, executors and memory); run
directly, Spark runs in local mode on this machine's cores.
"""

from __future__ import annotations

import logging
import os
import warnings
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from analytics import detect, lake, sparksql
from analytics.thresholds import Thresholds
from analytics.warehouse import WarehouseError, sql_text, timed

# The tables the Spark steps read besides the events: small, sent from the database (dimensions are rebuilt there
# first), then broadcast by Spark where it joins them.
INPUTS = ("usage_daily", "outcomes", "identity_lookup", "dim_people", "price_book")
MACROS = ("local_clock", "stg_usage", "stg_outcomes")
# detection's temporary tables the scoring and storing read, as detect_events.sql and detect_evidence.sql make them
DETECTION_OUTPUTS = ("_det_event_week", "_det_partners", "_det_evidence_day")
# Seconds the last Spark refresh in this process spent per step (the benchmark reports them).
LAST_STEPS: dict[str, float] = {}


LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")


def _require_spark():
    # PySpark warns about pandas 3 on import, and logs each failed statement itself before raising: the refresh
    # reports both its own way (pandas is not used on this path; a failed statement is one line of error)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError(
            "the Spark engine needs PySpark: pip install -r requirements-spark.txt (and Java 17 or later)"
        ) from None
    return SparkSession


def session():
    """The Spark session: spark-submit's when launched by it, else local mode on every core. Time is UTC, as the
    events' timestamps are."""
    builder = _require_spark().builder.appName("goodhart-refresh")
    if "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit: local mode on this machine
        cores = os.cpu_count() or 2
        builder = (
            builder.master(os.environ.get("GOODHART_SPARK_MASTER", f"local[{cores}]"))
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(max(4, 4 * cores)))
            .config("spark.driver.memory", os.environ.get("GOODHART_SPARK_DRIVER_MEMORY", "4g"))
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}")
        )
    builder = (
        builder.config("spark.sql.session.timeZone", "UTC")
        # the small sides of the event joins (people, identities, prices, the time zones' quarter hours: some
        # 10 MB at 20 zones x 180 days) are sent to every task rather than shuffled with the events
        .config("spark.sql.autoBroadcastJoinThreshold", os.environ.get("GOODHART_SPARK_BROADCAST", "128m"))
        .config("spark.sql.ansi.enabled", "false")  # DuckDB's arithmetic: no error on a NULL-producing cast
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # no Java, or a JVM that will not start: one line, not a traceback
        raise WarehouseError(f"Spark did not start (it needs Java 17 or later): {str(exc).splitlines()[0]}") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkEvents:
    """The event-scale steps of one whole refresh, on one Spark session over one lake."""

    def __init__(self, spark, lake_dir: str | Path) -> None:
        self.spark = spark
        # a URI (s3a://, hdfs://) as given, else a local folder's absolute path
        self.lake_dir = str(lake_dir) if lake.is_remote(lake_dir) else str(Path(lake_dir).resolve())
        self.macros = sparksql.Macros(*MACROS)
        self.cached: list = []

    def open(self, con: duckdb.DuckDBPyConnection) -> int:
        """Register the lake as usage_events and the database's small inputs; return the events in the lake."""
        from pyspark.sql import functions as F

        try:
            frame = self.spark.read.option("basePath", self.lake_dir).parquet(f"{self.lake_dir.rstrip('/')}/day=*")
        except Exception as exc:  # a remote lake that is missing or unreadable
            reason = str(exc).splitlines()[0]
            raise WarehouseError(f"Spark cannot read the event lake {self.lake_dir}: {reason}") from None
        missing = [c for c in lake.COLUMNS if c not in frame.columns]
        if missing:
            raise WarehouseError(f"the event lake {self.lake_dir} lacks usage_events columns: {', '.join(missing)}")
        types = _spark_types(lake.schema(con))
        columns = [F.col(c).cast(types[c]).alias(c) for c in lake.COLUMNS]
        batch = F.col("batch_id") if "batch_id" in frame.columns else F.lit(None)
        events = frame.select(*columns, batch.cast("bigint").alias("batch_id"))
        events.createOrReplaceTempView("usage_events")
        for table in INPUTS:
            self._send(con, table)
        return events.count()

    def _send(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        from pyspark.sql import functions as F

        rows = con.sql(f"SELECT * FROM {table}").to_arrow_table()
        frame = self.spark.createDataFrame(rows) if rows.num_rows else self.spark.createDataFrame([], _schema(rows))
        for field in frame.schema.fields:  # DuckDB's TIMESTAMP arrives without a zone: the session's (UTC)
            if field.dataType.typeName() == "timestamp_ntz":
                frame = frame.withColumn(field.name, F.col(field.name).cast("timestamp"))
        frame.createOrReplaceTempView(table)

    def run(self, name: str, params: dict) -> object:
        """Run a SQL file on Spark: its temporary tables become checkpointed views; returns the last query's frame."""
        last = None
        for stmt in sparksql.translate(sql_text(name), params, self.macros):
            try:
                frame = self.spark.sql(stmt.sql)
            except Exception as exc:  # Spark's analysis errors: which file and table, in one line
                what = f"{name}.sql" + (f" ({stmt.name})" if stmt.name else "")
                raise WarehouseError(f"Spark could not run {what}: {str(exc).splitlines()[0]}") from None
            if stmt.kind == "query":
                last = frame
                continue
            # materialised now, as DuckDB's CREATE TABLE does: later statements read it several times, and start
            # from its rows rather than from the plan that made them (a checkpoint cuts the lineage)
            frame = frame.localCheckpoint(eager=True)
            frame.createOrReplaceTempView(stmt.name)
            self.cached.append(frame)
        return last

    def close(self) -> None:
        for frame in self.cached:
            frame.unpersist()
        self.cached.clear()


def _spark_types(duck: dict[str, str]) -> dict[str, str]:
    mapping = {"VARCHAR": "string", "TIMESTAMP": "timestamp", "BIGINT": "bigint", "DOUBLE": "double"}
    return {c: mapping[t] for c, t in duck.items()}


def _schema(rows: pa.Table):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(rows.schema)


class Engine:
    """What marts.refresh asks of the engine that reads events from a lake: the marts read from events, and
    detection's features of the events (detect.EventFeatures)."""

    def __init__(self, lake_dir: str | Path) -> None:
        self.lake_dir = lake_dir
        self.events = 0
        self._spark = None
        self._steps: SparkEvents | None = None

    def start(self, con: duckdb.DuckDBPyConnection) -> int:
        LAST_STEPS.clear()
        with timed(LAST_STEPS, "spark start"):
            self._spark = session()
        self._steps = SparkEvents(self._spark, self.lake_dir)
        with timed(LAST_STEPS, "lake open"):
            self.events = self._steps.open(con)
        return self.events

    def mart(self, con: duckdb.DuckDBPyConnection, mart: str, lo: date, hi: date, create) -> None:
        """The mart built on Spark for the days [lo, hi] into the database's table (made empty by `create`, with the
        columns and types the DuckDB definition gives), in the order the definition gives."""
        text = sql_text(mart)
        with timed(LAST_STEPS, mart):
            rows = self._steps.run(mart, {"lo": lo, "hi": hi}).toArrow()
            create(con, mart)
            _insert_rows(con, mart, rows, sparksql.order_of(text))

    def counts(self) -> pa.Table:
        """Events per tool in the lake, with the last batch (mart_source_rows' usage_events rows)."""
        return self._steps.run("lake_event_rows", {}).toArrow()

    def features(
        self, con: duckdb.DuckDBPyConnection, since: date, until: date, lo: date, hi: date, t: Thresholds
    ) -> None:
        """detect.EventFeatures: detection's reading of the events on Spark, every week at once."""
        with timed(LAST_STEPS, "detection events"):
            self._steps.run("detect_events", detect.script_params(t, since=since, until=until, lo=lo, hi=hi))
            self._steps.run("detect_evidence", {"lo": lo, "hi": hi})
        with timed(LAST_STEPS, "detection fetch"):
            fetched = {name: self._steps.spark.table(name).toArrow() for name in DETECTION_OUTPUTS}
            detect.empty_event_tables(con, t)  # DuckDB's columns and types, which the rows are cast to
            for name, rows in fetched.items():
                _insert_rows(con, name, rows, None)
            # DuckDB's list() of no rows is NULL, Spark's collect_list an empty array
            con.execute("UPDATE _det_evidence_day SET gaps = NULL WHERE len(gaps) = 0")
        self._steps.close()

    def stop(self) -> None:
        if self._steps is not None:
            self._steps.close()
        # the session is kept for the process (a second refresh reuses the JVM); spark-submit stops it at exit


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, order: str | None) -> None:
    con.register("_spark_rows", rows)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _spark_rows{f' ORDER BY {order}' if order else ''}")
    finally:
        con.unregister("_spark_rows")
