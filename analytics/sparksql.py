"""The pipeline's SQL files, which are written for DuckDB, as Spark SQL: one definition for both engines.

sqlglot (a SQL parser and transpiler) does the dialect work; this module adds what sqlglot cannot know about our
files, each a rule on the parsed statement:

- table macros (stg_usage, stg_outcomes, local_clock) are inlined where they are called, as a subquery with the
  call's arguments in place of the macro's parameters (Spark has no table macros);
- `$name` parameters become typed literals (the values are ours: dates, numbers and flags, never user text);
- a temporary table becomes a Spark view the caller materialises; a DELETE from one becomes the view of the rows
  it keeps (Spark's views are immutable);
- the handful of DuckDB functions with no Spark twin of the same meaning: epoch seconds and microseconds, local
  time (`timezone(tz, timezone('UTC', ts))`), ISO weekday, quarter-hour buckets, hex fingerprints as 64 bits
  (Spark has no unsigned type: the same bits as a signed BIGINT, which the near-duplicate test only shifts, masks,
  xors and compares for equality), and the struct on the left of IN (subquery).

Timestamps are Spark's session-zoned TIMESTAMP with the session in UTC, which is DuckDB's TIMESTAMP (no zone).
A construct none of the rules covers fails in Spark with its own message, naming the statement: the rules do not
guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlglot
from sqlglot import exp

from analytics.warehouse import sql_text

QUARTER_HOUR_US = 900_000_000


@dataclass(frozen=True)
class Statement:
    """One statement as Spark SQL: `kind` "table" (materialise `sql` as the view `name`), "delete" (replace the
    view `name` with the rows `sql` keeps) or "query" (run `sql`)."""

    kind: str
    name: str | None
    sql: str


class Macros:
    """The table macros of some SQL files, by name: their parameters and body."""

    def __init__(self, *files: str) -> None:
        self.bodies: dict[str, tuple[list[str], exp.Expression]] = {}
        for name in files:
            for stmt in sqlglot.parse(sql_text(name), read="duckdb"):
                fn = stmt.this if isinstance(stmt, exp.Create) else None
                if not isinstance(fn, exp.UserDefinedFunction):
                    raise ValueError(f"{name}.sql: expected only table macros")
                params = [p.name for p in fn.expressions]
                self.bodies[fn.this.name.lower()] = (params, stmt.expression)

    def inline(self, tree: exp.Expression) -> exp.Expression:
        """Every call of a known macro in FROM or JOIN as the macro's body (itself inlined)."""

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous):
                called = node.this.name.lower()
                if called in self.bodies:
                    params, body = self.bodies[called]
                    args = dict(zip(params, node.this.expressions, strict=True))
                    inlined = self.inline(_prefix_ctes(_substitute(body.copy(), args), called))
                    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(called))
                    return exp.Subquery(this=inlined, alias=alias)
            return node

        return tree.transform(swap)


def _prefix_ctes(body: exp.Expression, prefix: str) -> exp.Expression:
    """The body with its CTEs named `prefix__name`: Spark's SQL (as sqlglot writes it) lifts every CTE to the top
    of the statement, where two inlined macros' `typed` would clash."""
    names = {cte.alias for cte in body.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CTE) and node.alias in names:
            node.set("alias", exp.TableAlias(this=exp.to_identifier(f"{prefix}__{node.alias}")))
        elif isinstance(node, exp.Table) and not node.db and node.name in names:
            alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
            return exp.Table(this=exp.to_identifier(f"{prefix}__{node.name}"), alias=alias)
        return node

    return body.transform(swap)


def _substitute(body: exp.Expression, args: dict[str, exp.Expression]) -> exp.Expression:
    """A macro body with each bare reference to a parameter replaced by the call's argument."""

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in args:
            return exp.Paren(this=args[node.name].copy())
        return node

    return body.transform(swap)


def _literal(value: object) -> exp.Expression:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if type(value) is date:  # a datetime would lose its time in a DATE literal: refused below
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value))
    raise TypeError(f"no Spark literal for {type(value).__name__}")


def _bind(tree: exp.Expression, params: dict) -> exp.Expression:
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder | exp.Parameter):
            key = node.name
            if key not in params:
                raise KeyError(f"no value for ${key}")
            return _literal(params[key])
        return node

    return tree.transform(swap)


def _call(node: exp.Expression) -> str:
    """The lower-case name of a function call sqlglot keeps as anonymous, else ''."""
    return node.name.lower() if isinstance(node, exp.Anonymous) else ""


def _unix_micros(arg: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="unix_micros", expressions=[arg])


def _rewrite(node: exp.Expression) -> exp.Expression:
    """DuckDB functions and forms without a Spark twin of the same meaning, as Spark's."""
    name = _call(node)
    if name == "epoch_us":
        return _unix_micros(node.expressions[0])
    if isinstance(node, exp.TimeToUnix):  # epoch(ts): seconds, with the microseconds as a fraction
        micros = exp.cast(_unix_micros(node.this), exp.DataType.build("DOUBLE"))
        return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number(1_000_000)))
    if isinstance(node, exp.DayOfWeekIso):  # Monday 1 to Sunday 7; Spark's weekday is Monday 0
        weekday = exp.Anonymous(this="weekday", expressions=[node.this])
        return exp.Paren(this=exp.Add(this=weekday, expression=exp.Literal.number(1)))
    if name == "timezone":
        return _local_time(node)
    if isinstance(node, exp.DateBin):
        return _quarter_hour(node)
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.UBIGINT):
        return _hex_bits(node)
    if isinstance(node, exp.DataType) and node.is_type(exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ):
        return exp.DataType.build("TIMESTAMPLTZ")
    if isinstance(node, exp.Log) and node.this.is_number and node.this.name == "10":
        return exp.Anonymous(this="log10", expressions=[node.expression])  # log(10, x) is not exact at powers of ten
    if isinstance(node, exp.BitwiseXor) and not isinstance(node.parent, exp.Paren):
        return exp.Paren(this=node.copy())  # Spark binds & tighter than ^: keep DuckDB's grouping
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        return _series_table(node)
    if isinstance(node, exp.In) and isinstance(node.args.get("query"), exp.Subquery):
        select = node.args["query"].this  # (a, b) IN (SELECT (a, b) ...): Spark wants the columns, not a struct
        picked = select.expressions if isinstance(select, exp.Select) else []
        if len(picked) == 1 and isinstance(picked[0], exp.Tuple):
            select.set("expressions", [e.copy() for e in picked[0].expressions])
    return node


def _local_time(node: exp.Expression) -> exp.Expression:
    """timezone(tz, timezone('UTC', ts)): the UTC time ts as local time in tz, Spark's from_utc_timestamp."""
    target, inner = node.expressions
    if not (_call(inner) == "timezone" and inner.expressions[0].name.upper() == "UTC"):
        raise ValueError(f"only timezone(tz, timezone('UTC', ts)) has a Spark form: {node.sql('duckdb')}")
    return exp.Anonymous(this="from_utc_timestamp", expressions=[inner.expressions[1], target])


def _quarter_hour(node: exp.DateBin) -> exp.Expression:
    """time_bucket(INTERVAL 15 MINUTE, ts): the quarter hour ts lies in (every zone's offset is whole quarters)."""
    width = node.this
    if not (isinstance(width, exp.Interval) and width.name == "15" and width.unit.name.upper() == "MINUTE"):
        raise ValueError(f"only 15-minute time buckets have a Spark form: {node.sql('duckdb')}")
    bucket = exp.IntDiv(this=_unix_micros(node.expression), expression=exp.Literal.number(QUARTER_HOUR_US))
    return exp.Anonymous(
        this="timestamp_micros", expressions=[exp.Mul(this=bucket, expression=exp.Literal.number(QUARTER_HOUR_US))]
    )


def _series_table(node: exp.Table) -> exp.Expression:
    """range(n) t(b) in FROM: a one-column table of 0 .. n-1, as a subquery exploding a sequence."""
    series, alias = node.this, node.args.get("alias")
    if alias is None or len(alias.columns) != 1:
        raise ValueError(f"a series in FROM needs an alias with one column: {node.sql('duckdb')}")
    end = series.args["end"]
    if series.args.get("is_end_exclusive"):
        end = exp.Sub(this=end.copy(), expression=exp.Literal.number(1))
    values = exp.Anonymous(this="sequence", expressions=[series.args["start"].copy(), end])
    select = exp.select(exp.alias_(exp.Explode(this=values), alias.columns[0].name))
    return exp.Subquery(this=select, alias=exp.TableAlias(this=alias.this.copy()))


def _hex_bits(node: exp.Cast) -> exp.Expression:
    """CAST('0x' || hex AS UBIGINT): the 64 bits of a hex string, as Spark's signed BIGINT."""
    inner = node.this
    if not (isinstance(inner, exp.DPipe) and isinstance(inner.this, exp.Literal) and inner.this.name == "0x"):
        raise ValueError(f"only CAST('0x' || hex AS UBIGINT) has a Spark form: {node.sql('duckdb')}")
    conv = exp.Anonymous(this="conv", expressions=[inner.expression, exp.Literal.number(16), exp.Literal.number(-10)])
    return exp.cast(conv, exp.DataType.build("BIGINT"))


def _spark(tree: exp.Expression) -> str:
    # sqlglot's transform does not descend into a node a rule returns, which may hold more to rewrite (a
    # timezone() under isodow(), a UBIGINT cast under xor()): rewrite until nothing changes (the rules are idempotent)
    for _ in range(10):
        before = tree.sql("duckdb")
        tree = tree.transform(_rewrite)
        if tree.sql("duckdb") == before:
            return tree.sql("spark", comments=False)
    raise ValueError(f"the Spark rules do not settle on: {before[:120]}")


def translate(text: str, params: dict, macros: Macros) -> list[Statement]:
    """A DuckDB script (one or more statements) as Spark statements, parameters bound."""
    out = []
    for stmt in sqlglot.parse(text, read="duckdb"):
        if stmt is None:
            continue
        stmt = _bind(macros.inline(stmt), params)
        if isinstance(stmt, exp.Create) and stmt.kind == "TABLE":
            out.append(Statement("table", stmt.this.name, _spark(stmt.expression)))
        elif isinstance(stmt, exp.Delete):
            name = stmt.this.name
            dropped = exp.func("COALESCE", stmt.args["where"].this, exp.false())
            keep = exp.select("*").from_(name).where(exp.not_(dropped))
            out.append(Statement("delete", name, _spark(keep)))
        elif isinstance(stmt, exp.Query):
            out.append(Statement("query", None, _spark(stmt)))
        else:
            raise ValueError(f"no Spark form for this statement: {stmt.sql('duckdb')[:120]}")
    return out


def order_of(text: str) -> str | None:
    """The ORDER BY of a query file, as DuckDB SQL (Spark's rows are put in this order when stored in DuckDB)."""
    tree = sqlglot.parse_one(text, read="duckdb")
    order = tree.args.get("order")
    return ", ".join(o.sql("duckdb") for o in order.expressions) if order else None
